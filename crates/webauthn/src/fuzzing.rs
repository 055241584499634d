//! The fuzz target's input format, here so that the target and the test of its seeds read
//! bytes the same way: a registration answer and an assertion with a key, each part preceded
//! by its length (one byte, or two big-endian for the CBOR parts), the signature last. Short
//! input gives empty parts.

use kikeru_domain::membership::passkey::{
    AssertionResponse, NewCredential, PasskeyError, RegistrationResponse, VerifiedAssertion,
};
use kikeru_domain::membership::ports::PasskeyVerifier;

use crate::Verifier;

/// The relying-party ID the fuzz target verifies for.
pub const RP_ID: &str = "localhost";
/// The origin the fuzz target verifies for.
pub const ORIGIN: &str = "http://localhost:8080";
/// The challenge of both ceremonies.
pub const CHALLENGE: [u8; 32] = [7; 32];

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.0.split_at(n.min(self.0.len()));
        self.0 = tail;
        head
    }

    fn short(&mut self) -> &'a [u8] {
        let n = self.take(1).first().copied().map_or(0, usize::from);
        self.take(n)
    }

    fn long(&mut self) -> &'a [u8] {
        let n = match self.take(2) {
            [hi, lo] => usize::from(u16::from_be_bytes([*hi, *lo])),
            _ => 0,
        };
        self.take(n)
    }
}

/// The parts of one fuzz input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parts {
    /// The registration answer.
    pub registration: RegistrationResponse,
    /// The stored key the assertion is checked with.
    pub public_key: Vec<u8>,
    /// The assertion.
    pub assertion: AssertionResponse,
}

impl Parts {
    /// Reads `data` as the format above.
    pub fn read(data: &[u8]) -> Self {
        let mut r = Reader(data);
        let registration = RegistrationResponse {
            client_data_json: r.short().to_vec(),
            attestation_object: r.long().to_vec(),
        };
        let client_data_json = r.short().to_vec();
        let public_key = r.long().to_vec();
        let authenticator_data = r.short().to_vec();
        Self {
            registration,
            public_key,
            assertion: AssertionResponse {
                credential_id: Vec::new(),
                client_data_json,
                authenticator_data,
                signature: r.take(usize::MAX).to_vec(),
                user_handle: None,
            },
        }
    }

    /// The format's bytes for these parts (for making seeds).
    ///
    /// # Panics
    /// When a part is longer than its length prefix allows.
    #[allow(clippy::expect_used, reason = "seeds are made from small parts")]
    pub fn write(&self) -> Vec<u8> {
        let short = |out: &mut Vec<u8>, part: &[u8]| {
            out.push(u8::try_from(part.len()).expect("short part"));
            out.extend_from_slice(part);
        };
        let long = |out: &mut Vec<u8>, part: &[u8]| {
            out.extend_from_slice(&u16::try_from(part.len()).expect("long part").to_be_bytes());
            out.extend_from_slice(part);
        };
        let mut out = Vec::new();
        short(&mut out, &self.registration.client_data_json);
        long(&mut out, &self.registration.attestation_object);
        short(&mut out, &self.assertion.client_data_json);
        long(&mut out, &self.public_key);
        short(&mut out, &self.assertion.authenticator_data);
        out.extend_from_slice(&self.assertion.signature);
        out
    }
}

/// Runs both ceremonies on `data`: what the fuzz target does.
pub fn run(
    data: &[u8],
) -> (
    Result<NewCredential, PasskeyError>,
    Result<VerifiedAssertion, PasskeyError>,
) {
    let parts = Parts::read(data);
    let verifier = Verifier::new(RP_ID, ORIGIN);
    (
        verifier.verify_registration(&CHALLENGE, &parts.registration),
        verifier.verify_assertion(&CHALLENGE, &parts.public_key, &parts.assertion),
    )
}
