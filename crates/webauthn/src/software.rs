//! A software authenticator: a P-256 key made in memory that answers registration and
//! assertion ceremonies exactly as a platform authenticator with user verification does
//! (attestation `none`). For tests of the service, never for members.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use ciborium::Value;
use coset::{CborSerializable as _, CoseKeyBuilder, iana};
use kikeru_domain::membership::passkey::{AssertionResponse, RegistrationResponse};

/// One credential on one authenticator.
pub struct SoftwareAuthenticator {
    rp_id: String,
    origin: String,
    key: EcdsaKeyPair,
    credential_id: Vec<u8>,
    user_handle: Vec<u8>,
    sign_count: u32,
    /// Whether the authenticator reports user verification.
    pub verifies_user: bool,
    /// The BE flag it reports: whether the credential may be backed up (synced).
    pub backup_eligible: bool,
    /// The BS flag it reports: whether the credential is backed up now.
    pub backed_up: bool,
    /// Whether assertions carry the user handle (a discoverable credential's do).
    pub returns_user_handle: bool,
}

impl std::fmt::Debug for SoftwareAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareAuthenticator")
            .field("rp_id", &self.rp_id)
            .finish_non_exhaustive()
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .unwrap_or_else(|_| bytes.fill(7));
    bytes
}

impl SoftwareAuthenticator {
    /// An authenticator for `rp_id`, used from pages at `origin`, with a fresh key.
    ///
    /// # Panics
    /// If the key cannot be made (never with aws-lc-rs).
    #[allow(clippy::expect_used, reason = "test helper")]
    pub fn new(rp_id: &str, origin: &str) -> Self {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).expect("a P-256 key");
        Self {
            rp_id: rp_id.to_owned(),
            origin: origin.to_owned(),
            key,
            credential_id: random::<16>().to_vec(),
            user_handle: Vec::new(),
            sign_count: 0,
            verifies_user: true,
            backup_eligible: false,
            backed_up: false,
            returns_user_handle: true,
        }
    }

    /// The credential's ID.
    pub fn credential_id(&self) -> &[u8] {
        &self.credential_id
    }

    fn client_data(&self, kind: &str, challenge: &[u8]) -> Vec<u8> {
        serde_json::json!({
            "type": kind,
            "challenge": data_encoding::BASE64URL_NOPAD.encode(challenge),
            "origin": self.origin,
            "crossOrigin": false,
        })
        .to_string()
        .into_bytes()
    }

    fn authenticator_data(&mut self, attested: bool) -> Vec<u8> {
        self.sign_count += 1;
        let mut data = digest(&SHA256, self.rp_id.as_bytes()).as_ref().to_vec();
        let flag = |on: bool, bit: u8| if on { bit } else { 0 };
        data.push(
            0x01 | flag(self.verifies_user, 0x04)
                | flag(self.backup_eligible, 0x08)
                | flag(self.backed_up, 0x10)
                | flag(attested, 0x40),
        );
        data.extend_from_slice(&self.sign_count.to_be_bytes());
        if attested {
            data.extend_from_slice(&[0; 16]);
            let length = u16::try_from(self.credential_id.len()).unwrap_or(16);
            data.extend_from_slice(&length.to_be_bytes());
            data.extend_from_slice(&self.credential_id);
            data.extend_from_slice(&self.cose_key());
        }
        data
    }

    /// The public key as a COSE key (EC2, ES256, P-256), in CTAP2's canonical encoding.
    ///
    /// # Panics
    /// If the key cannot be encoded (never for a P-256 point).
    #[allow(clippy::expect_used, reason = "test helper")]
    pub fn cose_key(&self) -> Vec<u8> {
        let point = self.key.public_key().as_ref();
        CoseKeyBuilder::new_ec2_pub_key(
            iana::EllipticCurve::P_256,
            point[1..33].to_vec(),
            point[33..65].to_vec(),
        )
        .algorithm(iana::Algorithm::ES256)
        .build()
        .to_vec()
        .expect("a COSE key")
    }

    /// Answers `navigator.credentials.create()` for `challenge`, storing `user_handle` for
    /// later assertions (a discoverable credential).
    ///
    /// # Panics
    /// If the attestation object cannot be encoded (never).
    #[allow(clippy::expect_used, reason = "test helper")]
    pub fn register(&mut self, challenge: &[u8], user_handle: &[u8]) -> RegistrationResponse {
        self.user_handle = user_handle.to_vec();
        let data = self.authenticator_data(true);
        let object = Value::Map(vec![
            (Value::Text("fmt".into()), Value::Text("none".into())),
            (Value::Text("attStmt".into()), Value::Map(Vec::new())),
            (Value::Text("authData".into()), Value::Bytes(data)),
        ]);
        let mut attestation_object = Vec::new();
        ciborium::ser::into_writer(&object, &mut attestation_object).expect("CBOR");
        RegistrationResponse {
            client_data_json: self.client_data("webauthn.create", challenge),
            attestation_object,
        }
    }

    /// Answers `navigator.credentials.get()` for `challenge`.
    ///
    /// # Panics
    /// If signing fails (never with aws-lc-rs).
    #[allow(clippy::expect_used, reason = "test helper")]
    pub fn assert(&mut self, challenge: &[u8]) -> AssertionResponse {
        let client_data_json = self.client_data("webauthn.get", challenge);
        let authenticator_data = self.authenticator_data(false);
        let message = [
            authenticator_data.as_slice(),
            digest(&SHA256, &client_data_json).as_ref(),
        ]
        .concat();
        let signature = self
            .key
            .sign(&SystemRandom::new(), &message)
            .expect("signing")
            .as_ref()
            .to_vec();
        AssertionResponse {
            credential_id: self.credential_id.clone(),
            client_data_json,
            authenticator_data,
            signature,
            user_handle: self.returns_user_handle.then(|| self.user_handle.clone()),
        }
    }
}
