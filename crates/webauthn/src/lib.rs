//! WebAuthn (passkey) verification for the domain's [`PasskeyVerifier`] port: the client data
//! JSON, the authenticator data, the attestation object (CBOR) and COSE public keys, with the
//! signatures checked by aws-lc-rs (ES256, EdDSA, RS256).
//!
//! Attestation is not used: the service asks for none and trusts no statement, so any format
//! is accepted and only the credential it carries is kept (WebAuthn §7.1 step 21 lets the
//! relying party's policy decide). User verification is required in both ceremonies.

pub mod cbor;
#[cfg(any(test, feature = "software-authenticator"))]
pub mod software;

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ED25519, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents,
    UnparsedPublicKey,
};
use kikeru_domain::passkey::{
    AssertionResponse, NewCredential, PasskeyError, PasskeyVerifier, RegistrationResponse,
};

use crate::cbor::Cbor;

/// Flag: the user was present.
const USER_PRESENT: u8 = 0x01;
/// Flag: the user was verified (PIN, biometrics).
const USER_VERIFIED: u8 = 0x04;
/// Flag: attested credential data follows.
const ATTESTED: u8 = 0x40;
/// Flag: extensions follow.
const EXTENSIONS: u8 = 0x80;

/// The COSE algorithms checked here: exactly the domain's.
pub use kikeru_domain::passkey::ALGORITHMS;

/// The verifier for one relying party.
#[derive(Debug, Clone)]
pub struct Verifier {
    rp_id: String,
    rp_id_hash: [u8; 32],
    origin: String,
}

impl Verifier {
    /// A verifier for the relying-party ID `rp_id` (a domain) and the exact `origin` pages are
    /// served from (`https://kikeru.example.jp`).
    pub fn new(rp_id: &str, origin: &str) -> Self {
        let mut rp_id_hash = [0; 32];
        rp_id_hash.copy_from_slice(digest(&SHA256, rp_id.as_bytes()).as_ref());
        Self {
            rp_id: rp_id.to_owned(),
            rp_id_hash,
            origin: origin.trim_end_matches('/').to_owned(),
        }
    }

    fn check_client_data(
        &self,
        json: &[u8],
        kind: &str,
        challenge: &[u8],
    ) -> Result<(), PasskeyError> {
        #[derive(serde::Deserialize)]
        struct ClientData {
            #[serde(rename = "type")]
            kind: String,
            challenge: String,
            origin: String,
            #[serde(rename = "crossOrigin", default)]
            cross_origin: bool,
        }
        let data: ClientData =
            serde_json::from_slice(json).map_err(|_| PasskeyError::Malformed("client data"))?;
        let sent = data_encoding::BASE64URL_NOPAD
            .decode(data.challenge.trim_end_matches('=').as_bytes())
            .map_err(|_| PasskeyError::Malformed("challenge"))?;
        if data.kind != kind || sent != challenge {
            return Err(PasskeyError::WrongCeremony);
        }
        if data.origin != self.origin || data.cross_origin {
            return Err(PasskeyError::WrongSite);
        }
        Ok(())
    }

    fn check_authenticator(&self, data: &AuthenticatorData<'_>) -> Result<(), PasskeyError> {
        if data.rp_id_hash != self.rp_id_hash {
            return Err(PasskeyError::WrongSite);
        }
        if data.flags & USER_PRESENT == 0 || data.flags & USER_VERIFIED == 0 {
            return Err(PasskeyError::NotVerified);
        }
        Ok(())
    }
}

/// The authenticator data (WebAuthn §6.1).
struct AuthenticatorData<'a> {
    rp_id_hash: &'a [u8],
    flags: u8,
    sign_count: u32,
    /// The credential ID and its COSE key, when attested.
    credential: Option<(&'a [u8], &'a [u8])>,
}

fn authenticator_data(data: &[u8]) -> Result<AuthenticatorData<'_>, PasskeyError> {
    let malformed = PasskeyError::Malformed("authenticator data");
    if data.len() < 37 {
        return Err(malformed);
    }
    let flags = data[32];
    let sign_count = u32::from_be_bytes([data[33], data[34], data[35], data[36]]);
    let mut rest = &data[37..];
    let mut credential = None;
    if flags & ATTESTED != 0 {
        // AAGUID (16), credential ID length (2), credential ID, COSE key.
        if rest.len() < 18 {
            return Err(malformed);
        }
        let length = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
        rest = &rest[18..];
        if length == 0 || length > 1023 || rest.len() < length {
            return Err(malformed);
        }
        let (id, after) = rest.split_at(length);
        let (_, after_key) = Cbor::decode(after).map_err(|_| malformed)?;
        let key = &after[..after.len() - after_key.len()];
        credential = Some((id, key));
        rest = after_key;
    }
    if flags & EXTENSIONS != 0 {
        let (_, after) = Cbor::decode(rest).map_err(|_| malformed)?;
        rest = after;
    }
    if !rest.is_empty() {
        return Err(malformed);
    }
    Ok(AuthenticatorData {
        rp_id_hash: &data[..32],
        flags,
        sign_count,
        credential,
    })
}

/// A public key this service accepts.
enum PublicKey<'a> {
    /// ECDSA P-256 with SHA-256: the uncompressed point.
    Es256(Vec<u8>),
    /// Ed25519.
    Ed25519(&'a [u8]),
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256 { n: &'a [u8], e: &'a [u8] },
}

fn public_key(cose: &[u8]) -> Result<PublicKey<'_>, PasskeyError> {
    let malformed = PasskeyError::Malformed("public key");
    let key = Cbor::decode_all(cose).map_err(|_| malformed)?;
    let int = |label| key.get_int(label).and_then(Cbor::as_int);
    let bytes = |label| key.get_int(label).and_then(Cbor::as_bytes);
    match (int(1), int(3)) {
        (Some(2), Some(-7)) => {
            let (Some(1), Some(x), Some(y)) = (int(-1), bytes(-2), bytes(-3)) else {
                return Err(PasskeyError::Unsupported);
            };
            if x.len() != 32 || y.len() != 32 {
                return Err(malformed);
            }
            Ok(PublicKey::Es256([&[0x04], x, y].concat()))
        }
        (Some(1), Some(-8)) => match (int(-1), bytes(-2)) {
            (Some(6), Some(x)) if x.len() == 32 => Ok(PublicKey::Ed25519(x)),
            _ => Err(PasskeyError::Unsupported),
        },
        (Some(3), Some(-257)) => match (bytes(-1), bytes(-2)) {
            (Some(n), Some(e)) if n.len() >= 256 && !e.is_empty() => Ok(PublicKey::Rs256 { n, e }),
            _ => Err(PasskeyError::Unsupported),
        },
        (Some(_), Some(_)) => Err(PasskeyError::Unsupported),
        _ => Err(malformed),
    }
}

fn verify_signature(key: &PublicKey<'_>, message: &[u8], signature: &[u8]) -> bool {
    match key {
        PublicKey::Es256(point) => UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point)
            .verify(message, signature)
            .is_ok(),
        PublicKey::Ed25519(x) => UnparsedPublicKey::new(&ED25519, x)
            .verify(message, signature)
            .is_ok(),
        PublicKey::Rs256 { n, e } => RsaPublicKeyComponents { n: *n, e: *e }
            .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
            .is_ok(),
    }
}

impl PasskeyVerifier for Verifier {
    fn rp_id(&self) -> &str {
        &self.rp_id
    }

    fn verify_registration(
        &self,
        challenge: &[u8],
        response: &RegistrationResponse,
    ) -> Result<NewCredential, PasskeyError> {
        self.check_client_data(&response.client_data_json, "webauthn.create", challenge)?;
        let malformed = PasskeyError::Malformed("attestation object");
        let attestation = Cbor::decode_all(&response.attestation_object).map_err(|_| malformed)?;
        let (Some(data), Some(_format)) = (
            attestation.get_text("authData").and_then(Cbor::as_bytes),
            attestation.get_text("fmt").and_then(Cbor::as_text),
        ) else {
            return Err(malformed);
        };
        let data = authenticator_data(data)?;
        self.check_authenticator(&data)?;
        let Some((credential_id, key)) = data.credential else {
            return Err(PasskeyError::Malformed("attested credential data"));
        };
        public_key(key)?;
        Ok(NewCredential {
            credential_id: credential_id.to_vec(),
            public_key: key.to_vec(),
            sign_count: data.sign_count,
        })
    }

    fn verify_assertion(
        &self,
        challenge: &[u8],
        public_key_cose: &[u8],
        response: &AssertionResponse,
    ) -> Result<u32, PasskeyError> {
        self.check_client_data(&response.client_data_json, "webauthn.get", challenge)?;
        let data = authenticator_data(&response.authenticator_data)?;
        self.check_authenticator(&data)?;
        let key = public_key(public_key_cose)?;
        let client_hash = digest(&SHA256, &response.client_data_json);
        let message = [response.authenticator_data.as_slice(), client_hash.as_ref()].concat();
        if !verify_signature(&key, &message, &response.signature) {
            return Err(PasskeyError::BadSignature);
        }
        Ok(data.sign_count)
    }
}

#[cfg(test)]
mod tests;
