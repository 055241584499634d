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
        verifier()
            .verify_assertion(&second, &created.public_key, &assertion)
            .map(|v| v.sign_count),
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
fn the_backup_flags_are_reported_and_checked() {
    let challenge = [4u8; 32];
    let mut synced = SoftwareAuthenticator::new(RP, ORIGIN);
    synced.backup_eligible = true;
    synced.backed_up = true;
    let created = verifier()
        .verify_registration(&challenge, &synced.register(&challenge, b"u"))
        .expect("registers");
    assert!(created.backup_eligible && created.backed_up);
    synced.backed_up = false;
    let used = verifier()
        .verify_assertion(&challenge, &created.public_key, &synced.assert(&challenge))
        .expect("verifies");
    assert!(used.backup_eligible && !used.backed_up);
    // Backed up without being eligible: no authenticator answers that.
    let mut odd = SoftwareAuthenticator::new(RP, ORIGIN);
    odd.backed_up = true;
    assert_eq!(
        verifier().verify_registration(&challenge, &odd.register(&challenge, b"u")),
        Err(PasskeyError::Malformed("backup flags"))
    );
}

#[test]
fn an_attestation_object_with_a_repeated_or_unknown_key_is_refused() {
    let mut authenticator = SoftwareAuthenticator::new(RP, ORIGIN);
    let challenge = [5u8; 32];
    let good = authenticator.register(&challenge, b"u");
    let value: ciborium::Value =
        ciborium::de::from_reader(good.attestation_object.as_slice()).unwrap();
    let ciborium::Value::Map(entries) = value else {
        panic!("a map");
    };
    let encode = |entries: Vec<(ciborium::Value, ciborium::Value)>| {
        let mut out = Vec::new();
        ciborium::ser::into_writer(&ciborium::Value::Map(entries), &mut out).unwrap();
        RegistrationResponse {
            client_data_json: good.client_data_json.clone(),
            attestation_object: out,
        }
    };
    // The first `authData` once won: a second one, with another key, must not slip past.
    let mut repeated = entries.clone();
    repeated.push(entries[2].clone());
    let mut unknown = entries.clone();
    unknown.push((ciborium::Value::Text("extra".into()), ciborium::Value::Null));
    for response in [encode(repeated), encode(unknown)] {
        assert!(matches!(
            verifier().verify_registration(&challenge, &response),
            Err(PasskeyError::Malformed(_))
        ));
    }
    assert!(
        verifier()
            .verify_registration(&challenge, &encode(entries))
            .is_ok()
    );
}

/// The fuzz target's seeds are real answers, so the fuzzer starts past every check and mutates
/// from there: both ceremonies verify.
#[test]
fn the_fuzz_seed_passes_both_ceremonies() {
    let seed = include_bytes!("../../../fuzz/corpus/passkey/ceremonies");
    let (registration, assertion) = fuzzing::run(seed);
    assert!(registration.is_ok(), "{registration:?}");
    assert!(assertion.is_ok(), "{assertion:?}");
}

/// Makes the seed above (run with `--ignored` to write it again).
#[test]
#[ignore = "writes fuzz/corpus/passkey/ceremonies"]
fn write_the_fuzz_seed() {
    let mut authenticator = SoftwareAuthenticator::new(fuzzing::RP_ID, fuzzing::ORIGIN);
    let registration = authenticator.register(&fuzzing::CHALLENGE, b"user");
    let assertion = authenticator.assert(&fuzzing::CHALLENGE);
    let parts = fuzzing::Parts {
        registration,
        public_key: authenticator.cose_key(),
        assertion,
    };
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/corpus/passkey/ceremonies"
    );
    std::fs::write(path, parts.write()).unwrap();
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

/// 1Password's authenticator and WebAuthn client (RustCrypto's P-256, not aws-lc): what an
/// independent implementation makes, the verifier accepts — and refuses when it is changed.
mod independent {
    use super::*;
    use coset::iana;
    // One credential the authenticator finds without being told its ID: a discoverable one.
    use passkey_authenticator::{Authenticator, UiHint, UserCheck, UserValidationMethod};
    use passkey_client::{Client, DefaultClientData};
    use passkey_crypto::AvailableBackend;
    use passkey_types::ctap2::{Aaguid, Ctap2Error};
    use passkey_types::webauthn;

    /// A member who always confirms with a PIN or biometric.
    struct Verified;

    #[async_trait::async_trait]
    impl UserValidationMethod for Verified {
        type PasskeyItem = passkey_types::Passkey;

        async fn check_user<'a>(
            &self,
            _hint: UiHint<'a, Self::PasskeyItem>,
            presence: bool,
            verification: bool,
        ) -> Result<UserCheck, Ctap2Error> {
            Ok(UserCheck {
                presence,
                verification,
            })
        }

        fn is_presence_enabled(&self) -> bool {
            true
        }

        fn is_verification_enabled(&self) -> Option<bool> {
            Some(true)
        }
    }

    fn creation(challenge: &[u8]) -> webauthn::CredentialCreationOptions {
        webauthn::CredentialCreationOptions {
            public_key: webauthn::PublicKeyCredentialCreationOptions {
                rp: webauthn::PublicKeyCredentialRpEntity {
                    id: Some(RP.into()),
                    name: "みんな聞ける".into(),
                },
                user: webauthn::PublicKeyCredentialUserEntity {
                    id: vec![9; 16].into(),
                    display_name: "hanako@example.jp".into(),
                    name: "hanako@example.jp".into(),
                },
                challenge: challenge.to_vec().into(),
                pub_key_cred_params: vec![webauthn::PublicKeyCredentialParameters {
                    ty: webauthn::PublicKeyCredentialType::PublicKey,
                    alg: iana::Algorithm::ES256,
                }],
                timeout: None,
                exclude_credentials: None,
                authenticator_selection: Some(webauthn::AuthenticatorSelectionCriteria {
                    authenticator_attachment: None,
                    resident_key: Some(webauthn::ResidentKeyRequirement::Required),
                    require_resident_key: true,
                    user_verification: webauthn::UserVerificationRequirement::Required,
                }),
                hints: None,
                attestation: webauthn::AttestationConveyancePreference::None,
                attestation_formats: None,
                extensions: None,
            },
        }
    }

    fn request(challenge: &[u8]) -> webauthn::CredentialRequestOptions {
        webauthn::CredentialRequestOptions {
            public_key: webauthn::PublicKeyCredentialRequestOptions {
                challenge: challenge.to_vec().into(),
                timeout: None,
                rp_id: Some(RP.into()),
                // Discoverable: no credential named, as the service asks.
                allow_credentials: None,
                user_verification: webauthn::UserVerificationRequirement::Required,
                hints: None,
                attestation: webauthn::AttestationConveyancePreference::None,
                attestation_formats: None,
                extensions: None,
            },
        }
    }

    #[test]
    fn another_implementations_passkey_registers_and_signs_in() {
        futures_executor::block_on(async {
            let authenticator =
                Authenticator::new(Aaguid::new_empty(), None, Verified, AvailableBackend);
            let mut client = Client::new(authenticator);
            let origin = url::Url::parse(ORIGIN).unwrap();
            let challenge = [11u8; 32];
            let created = client
                .register(&origin, creation(&challenge), DefaultClientData)
                .await
                .expect("the client registers");
            let registration = RegistrationResponse {
                client_data_json: created.response.client_data_json.to_vec(),
                attestation_object: created.response.attestation_object.to_vec(),
            };
            let credential = verifier()
                .verify_registration(&challenge, &registration)
                .expect("the verifier accepts another implementation's registration");
            assert_eq!(credential.credential_id, created.raw_id.to_vec());

            let second = [12u8; 32];
            let used = client
                .authenticate(&origin, request(&second), DefaultClientData)
                .await
                .expect("the client signs in");
            let assertion = AssertionResponse {
                credential_id: used.raw_id.to_vec(),
                client_data_json: used.response.client_data_json.to_vec(),
                authenticator_data: used.response.authenticator_data.to_vec(),
                signature: used.response.signature.to_vec(),
                user_handle: used.response.user_handle.as_ref().map(|h| h.to_vec()),
            };
            assert_eq!(assertion.user_handle.as_deref(), Some(&[9u8; 16][..]));
            let verified = verifier()
                .verify_assertion(&second, &credential.public_key, &assertion)
                .expect("the verifier accepts another implementation's assertion");
            assert_eq!(verified.backup_eligible, credential.backup_eligible);

            let mut forged = assertion.clone();
            let last = forged.authenticator_data.len() - 1;
            forged.authenticator_data[last] ^= 1;
            assert_eq!(
                verifier().verify_assertion(&second, &credential.public_key, &forged),
                Err(PasskeyError::BadSignature)
            );
        });
    }
}
