//! WebAuthn (passkey) verification for the domain's [`PasskeyVerifier`] port: the client data
//! JSON, the authenticator data, the attestation object (CBOR, read by `ciborium`) and COSE
//! public keys (read by `coset`, in their canonical encoding only), with the signatures checked
//! by aws-lc-rs (ES256, EdDSA, RS256). Every read is bounded in size and nesting before any
//! value is kept, and a key that could never verify is refused at registration.
//!
//! Attestation is not used: the service asks for none and trusts no statement, so any format
//! is accepted and only the credential it carries is kept (WebAuthn §7.1 step 21 lets the
//! relying party's policy decide). User verification is required in both ceremonies.

mod cose;
#[doc(hidden)]
pub mod fuzzing;
#[cfg(any(test, feature = "software-authenticator"))]
pub mod software;

use aws_lc_rs::digest::{SHA256, digest};
use kikeru_domain::membership::passkey::{
    AssertionResponse, NewCredential, PasskeyError, RegistrationResponse, VerifiedAssertion,
};
use kikeru_domain::membership::ports::PasskeyVerifier;
use serde::de::IgnoredAny;

use crate::cose::{MAX_DEPTH, item_len, public_key};

/// Flag: the user was present.
const USER_PRESENT: u8 = 0x01;
/// Flag: the user was verified (PIN, biometrics).
const USER_VERIFIED: u8 = 0x04;
/// Flag: the credential may be backed up (BE); fixed for its life.
const BACKUP_ELIGIBLE: u8 = 0x08;
/// Flag: the credential is backed up (BS).
const BACKED_UP: u8 = 0x10;
/// Flag: attested credential data follows.
const ATTESTED: u8 = 0x40;
/// Flag: extensions follow.
const EXTENSIONS: u8 = 0x80;

/// The COSE algorithms checked here: exactly the domain's.
pub use kikeru_domain::membership::passkey::ALGORITHMS;

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
        // Backed up but not eligible for backup: no authenticator says that (§6.1.3).
        if data.flags & BACKED_UP != 0 && data.flags & BACKUP_ELIGIBLE == 0 {
            return Err(PasskeyError::Malformed("backup flags"));
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

impl AuthenticatorData<'_> {
    const fn backup_eligible(&self) -> bool {
        self.flags & BACKUP_ELIGIBLE != 0
    }

    const fn backed_up(&self) -> bool {
        self.flags & BACKED_UP != 0
    }
}

fn authenticator_data(data: &[u8]) -> Result<AuthenticatorData<'_>, PasskeyError> {
    let malformed = PasskeyError::Malformed("authenticator data");
    let (Some(rp_id_hash), Some(&flags), Some(count)) =
        (data.get(..32), data.get(32), data.get(33..37))
    else {
        return Err(malformed);
    };
    let sign_count = u32::from_be_bytes([count[0], count[1], count[2], count[3]]);
    let mut rest = &data[37..];
    let mut credential = None;
    if flags & ATTESTED != 0 {
        // AAGUID (16), credential ID length (2), credential ID, COSE key.
        let Some(length) = rest.get(16..18) else {
            return Err(malformed);
        };
        let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
        rest = &rest[18..];
        if length == 0 || length > 1023 || rest.len() < length {
            return Err(malformed);
        }
        let (id, after) = rest.split_at(length);
        let key_len = item_len(after).ok_or(malformed)?;
        let (key, after_key) = after.split_at(key_len);
        credential = Some((id, key));
        rest = after_key;
    }
    if flags & EXTENSIONS != 0 {
        rest = &rest[item_len(rest).ok_or(malformed)?..];
    }
    if !rest.is_empty() {
        return Err(malformed);
    }
    Ok(AuthenticatorData {
        rp_id_hash,
        flags,
        sign_count,
        credential,
    })
}

/// The largest attestation object read. With attestation `none`, as this service asks, one is
/// a few hundred bytes; other formats add a certificate chain of a few kilobytes.
const MAX_ATTESTATION_BYTES: usize = 16 * 1024;

/// An attestation object (WebAuthn §6.5): exactly these three keys, each once. The
/// statement is skipped unread: no attestation is trusted here.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AttestationObject {
    #[serde(rename = "fmt")]
    _format: String,
    #[serde(rename = "attStmt")]
    _statement: IgnoredAny,
    #[serde(rename = "authData")]
    auth_data: ByteString,
}

/// A CBOR byte string.
struct ByteString(Vec<u8>);

impl<'de> serde::Deserialize<'de> for ByteString {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ByteString;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<ByteString, E> {
                Ok(ByteString(v.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<ByteString, E> {
                Ok(ByteString(v))
            }
        }
        deserializer.deserialize_byte_buf(Visitor)
    }
}

fn attestation_object(bytes: &[u8]) -> Result<Vec<u8>, PasskeyError> {
    let malformed = PasskeyError::Malformed("attestation object");
    if bytes.len() > MAX_ATTESTATION_BYTES || item_len(bytes) != Some(bytes.len()) {
        return Err(malformed);
    }
    let object: AttestationObject =
        ciborium::de::from_reader_with_recursion_limit(bytes, MAX_DEPTH).map_err(|_| malformed)?;
    Ok(object.auth_data.0)
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
        let data = attestation_object(&response.attestation_object)?;
        let data = authenticator_data(&data)?;
        self.check_authenticator(&data)?;
        let Some((credential_id, key)) = data.credential else {
            return Err(PasskeyError::Malformed("attested credential data"));
        };
        public_key(key)?;
        Ok(NewCredential {
            credential_id: credential_id.to_vec(),
            public_key: key.to_vec(),
            sign_count: data.sign_count,
            backup_eligible: data.backup_eligible(),
            backed_up: data.backed_up(),
        })
    }

    fn verify_assertion(
        &self,
        challenge: &[u8],
        public_key_cose: &[u8],
        response: &AssertionResponse,
    ) -> Result<VerifiedAssertion, PasskeyError> {
        self.check_client_data(&response.client_data_json, "webauthn.get", challenge)?;
        let data = authenticator_data(&response.authenticator_data)?;
        self.check_authenticator(&data)?;
        let key = public_key(public_key_cose)?;
        let client_hash = digest(&SHA256, &response.client_data_json);
        let message = [response.authenticator_data.as_slice(), client_hash.as_ref()].concat();
        if !key.verifies(&message, &response.signature) {
            return Err(PasskeyError::BadSignature);
        }
        Ok(VerifiedAssertion {
            sign_count: data.sign_count,
            backup_eligible: data.backup_eligible(),
            backed_up: data.backed_up(),
        })
    }
}

#[cfg(test)]
mod tests;
