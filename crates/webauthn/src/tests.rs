//! The verifier against the software authenticator: every check refuses what it should.

use super::*;
use crate::software::SoftwareAuthenticator;

const RP: &str = "kikeru.example.jp";
const ORIGIN: &str = "https://kikeru.example.jp";

fn verifier() -> Verifier {
    Verifier::new(RP, ORIGIN)
}

#[test]
fn a_registration_and_its_assertions_verify() {
    let mut authenticator = SoftwareAuthenticator::new(RP, ORIGIN);
    let challenge = [1u8; 32];
    let created = verifier()
        .verify_registration(&challenge, &authenticator.register(&challenge, b"user"))
        .expect("registers");
    assert_eq!(created.credential_id, authenticator.credential_id());
    assert_eq!(created.public_key, authenticator.cose_key());
    assert_eq!(created.sign_count, 1);
    let second = [2u8; 32];
    let assertion = authenticator.assert(&second);
    assert_eq!(
        verifier().verify_assertion(&second, &created.public_key, &assertion),
        Ok(2)
    );
    assert_eq!(
        verifier().verify_assertion(&challenge, &created.public_key, &assertion),
        Err(PasskeyError::WrongCeremony),
        "another challenge"
    );
    let mut forged = assertion.clone();
    forged.signature[10] ^= 1;
    assert_eq!(
        verifier().verify_assertion(&second, &created.public_key, &forged),
        Err(PasskeyError::BadSignature)
    );
    let other = SoftwareAuthenticator::new(RP, ORIGIN);
    assert_eq!(
        verifier().verify_assertion(&second, &other.cose_key(), &assertion),
        Err(PasskeyError::BadSignature),
        "another key"
    );
}

#[test]
fn answers_for_another_site_or_without_user_verification_are_refused() {
    let challenge = [3u8; 32];
    let mut phishing = SoftwareAuthenticator::new(RP, "https://kikeru.example.jp.evil.example");
    assert_eq!(
        verifier().verify_registration(&challenge, &phishing.register(&challenge, b"u")),
        Err(PasskeyError::WrongSite)
    );
    let mut other_rp = SoftwareAuthenticator::new("evil.example", ORIGIN);
    assert_eq!(
        verifier().verify_registration(&challenge, &other_rp.register(&challenge, b"u")),
        Err(PasskeyError::WrongSite)
    );
    let mut lax = SoftwareAuthenticator::new(RP, ORIGIN);
    lax.verifies_user = false;
    assert_eq!(
        verifier().verify_registration(&challenge, &lax.register(&challenge, b"u")),
        Err(PasskeyError::NotVerified)
    );
    let mut fine = SoftwareAuthenticator::new(RP, ORIGIN);
    let registration = fine.register(&challenge, b"u");
    let mut swapped = registration.clone();
    let text = String::from_utf8(registration.client_data_json.clone()).unwrap();
    swapped.client_data_json = text.replace("webauthn.create", "webauthn.get").into_bytes();
    assert_eq!(
        verifier().verify_registration(&challenge, &swapped),
        Err(PasskeyError::WrongCeremony)
    );
    let mut garbage = registration;
    garbage.attestation_object.truncate(20);
    assert!(matches!(
        verifier().verify_registration(&challenge, &garbage),
        Err(PasskeyError::Malformed(_))
    ));
}

#[test]
fn unsupported_keys_are_refused() {
    let mut key = Vec::new();
    cbor::write::map(&mut key, 2);
    cbor::write::int(&mut key, 1);
    cbor::write::int(&mut key, 2);
    cbor::write::int(&mut key, 3);
    cbor::write::int(&mut key, -35);
    assert!(matches!(public_key(&key), Err(PasskeyError::Unsupported)));
    assert!(matches!(
        public_key(&[0xa0]),
        Err(PasskeyError::Malformed(_))
    ));
}

proptest::proptest! {
    #[test]
    fn no_answer_makes_the_verifier_panic(
        client in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
        object in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
    ) {
        let response = RegistrationResponse { client_data_json: client.clone(), attestation_object: object.clone() };
        let _ = verifier().verify_registration(&[0; 32], &response);
        let assertion = AssertionResponse {
            credential_id: vec![1],
            client_data_json: client,
            authenticator_data: object.clone(),
            signature: object.clone(),
            user_handle: None,
        };
        let _ = verifier().verify_assertion(&[0; 32], &object, &assertion);
    }
}
