//! Passkey answers from browsers: the attestation object and authenticator data (CBOR), COSE
//! keys and the client data JSON never panic, hang or allocate beyond their bounds, whatever
//! the bytes. The input format and its seed (a real registration and assertion, so mutations
//! start past every check) are in `kikeru_webauthn::fuzzing`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = kikeru_webauthn::fuzzing::run(data);
});
