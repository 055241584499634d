//! Passkey answers from browsers: the CBOR reader, the authenticator data, COSE keys and the
//! client data JSON never panic, hang or allocate beyond the input, whatever the bytes.
#![no_main]

use kikeru_domain::passkey::{AssertionResponse, PasskeyVerifier, RegistrationResponse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let verifier = kikeru_webauthn::Verifier::new("localhost", "http://localhost:8080");
    let _ = kikeru_webauthn::cbor::Cbor::decode(data);
    let (split, rest) = data.split_first().map_or((0, data), |(b, r)| (usize::from(*b), r));
    let (first, second) = rest.split_at(split.min(rest.len()));
    let _ = verifier.verify_registration(
        &[7; 32],
        &RegistrationResponse {
            client_data_json: first.to_vec(),
            attestation_object: second.to_vec(),
        },
    );
    let _ = verifier.verify_assertion(
        &[7; 32],
        second,
        &AssertionResponse {
            credential_id: first.to_vec(),
            client_data_json: first.to_vec(),
            authenticator_data: second.to_vec(),
            signature: second.to_vec(),
            user_handle: None,
        },
    );
});
