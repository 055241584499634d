//! The second-factor rules against the RFC 4226 and RFC 6238 test vectors, with an injected
//! clock, and the assurance rules as properties.

use proptest::prelude::*;
use time::macros::datetime;

use super::*;

/// The key of the RFC 4226 and RFC 6238 test vectors (SHA-1).
const RFC_KEY: &[u8; 20] = b"12345678901234567890";

fn at(unix: i64) -> Timestamp {
    Timestamp::from_unix_timestamp(unix).expect("valid time")
}

#[test]
fn hotp_matches_rfc_4226_appendix_d() {
    let expected = [
        755_224, 287_082, 359_152, 969_429, 338_314, 254_676, 287_922, 162_583, 399_871, 520_489,
    ];
    for (counter, code) in expected.into_iter().enumerate() {
        assert_eq!(hotp(RFC_KEY, counter as u64, 6), code, "counter {counter}");
    }
}

#[test]
fn totp_matches_rfc_6238_appendix_b_for_sha1() {
    let vectors = [
        (59, 94_287_082),
        (1_111_111_109, 7_081_804),
        (1_111_111_111, 14_050_471),
        (1_234_567_890, 89_005_924),
        (2_000_000_000, 69_279_037),
        (20_000_000_000, 65_353_130),
    ];
    let secret = TotpSecret::from_bytes(*RFC_KEY);
    for (unix, eight_digits) in vectors {
        let step = step_of(at(unix)).cast_unsigned();
        assert_eq!(hotp(RFC_KEY, step, 8), eight_digits, "T = {unix}");
        // Six digits are the same truncation, modulo 10^6.
        assert_eq!(
            secret.code_at(at(unix)),
            format!("{:06}", eight_digits % 1_000_000),
            "T = {unix}"
        );
    }
}

#[test]
fn codes_are_accepted_one_step_either_side_and_no_further() {
    let secret = TotpSecret::from_bytes(*RFC_KEY);
    let now = at(1_234_567_890);
    let step = step_of(now);
    for offset in [-30, 0, 30] {
        let code = secret.code_at(at(1_234_567_890 + offset));
        assert_eq!(
            secret.verify(&code, now, None),
            Ok(step + offset / 30),
            "{offset}"
        );
    }
    for offset in [-90, -60, 60, 90] {
        let code = secret.code_at(at(1_234_567_890 + offset));
        assert_eq!(
            secret.verify(&code, now, None),
            Err(TotpError::Wrong),
            "{offset}"
        );
    }
}

#[test]
fn a_code_is_good_once_and_older_codes_are_used_up_with_it() {
    let secret = TotpSecret::from_bytes(*RFC_KEY);
    let t = 1_111_111_111;
    let first = secret.code_at(at(t));
    let used = secret.verify(&first, at(t), None).expect("first use");
    // The same code again, within its window, is refused.
    assert_eq!(
        secret.verify(&first, at(t + 10), Some(used)),
        Err(TotpError::Replayed)
    );
    // So is the previous step's code, still inside the window.
    let previous = secret.code_at(at(t - 30));
    assert_eq!(
        secret.verify(&previous, at(t), Some(used)),
        Err(TotpError::Replayed)
    );
    // The next step's code is new.
    let next = secret.code_at(at(t + 30));
    assert_eq!(secret.verify(&next, at(t + 30), Some(used)), Ok(used + 1));
}

#[test]
fn only_six_digits_are_a_code() {
    let secret = TotpSecret::from_bytes(*RFC_KEY);
    let now = at(59);
    for text in ["", "28708", "2870820", "abcdef", "２８７０８２", "28708x"] {
        assert_eq!(
            secret.verify(text, now, None),
            Err(TotpError::Malformed),
            "{text:?}"
        );
    }
    assert_eq!(secret.verify(" 287 082 ", now, None), Ok(1));
}

#[test]
fn the_secret_is_offered_as_base32_and_an_otpauth_uri_and_never_debugged() {
    let secret = TotpSecret::from_bytes(*RFC_KEY);
    assert_eq!(secret.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    assert_eq!(
        secret.otpauth_uri("Minna Kikeru", "hanako@example.jp"),
        "otpauth://totp/Minna%20Kikeru:hanako%40example.jp?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
         &issuer=Minna%20Kikeru&algorithm=SHA1&digits=6&period=30"
    );
    assert!(!format!("{secret:?}").contains("GEZ"));
    assert_eq!(
        TotpSecret::from_random([9; 32]).as_bytes(),
        &[9; 20],
        "20 of the 32 random bytes"
    );
}

#[test]
fn recovery_codes_are_shown_once_in_groups_and_read_back_however_typed() {
    let mut n = 0u8;
    let codes = RecoveryCode::new_set(|| {
        n += 1;
        [n; 32]
    });
    assert_eq!(codes.len(), RECOVERY_CODES);
    let hashes: std::collections::HashSet<_> =
        codes.iter().map(RecoveryCode::legacy_hash).collect();
    assert_eq!(hashes.len(), RECOVERY_CODES, "ten different codes");

    let code = &codes[0];
    let shown = code.expose();
    assert_eq!(shown.len(), 19);
    assert_eq!(shown.matches('-').count(), 3);
    assert_eq!(RecoveryCode::parse(&shown).as_ref(), Ok(code));
    let typed = shown.to_lowercase().replace('-', " ");
    assert_eq!(RecoveryCode::parse(&typed).as_ref(), Ok(code));
    for bad in [
        "",
        "ABCD-EFGH-IJKL",
        "ABCD-EFGH-IJKL-MNO1",
        "ABCD-EFGH-IJKL-MNOPQ",
    ] {
        assert_eq!(
            RecoveryCode::parse(bad),
            Err(MalformedRecoveryCode),
            "{bad}"
        );
    }
    assert!(!format!("{code:?}").contains(&shown[..4]));
    assert_ne!(&code.legacy_hash().as_bytes()[..10], &[1; 10]);
}

#[test]
fn factors_have_stable_names() {
    for factor in [
        Factor::Password,
        Factor::Passkey,
        Factor::Totp,
        Factor::RecoveryCode,
    ] {
        assert_eq!(Factor::from_name(factor.as_str()), Some(factor));
    }
    assert_eq!(Factor::from_name("sms"), None);
    assert_eq!(
        StepUp::ReauthenticationRequired.code(),
        "reauthentication_required"
    );
    assert_eq!(
        StepUp::SecondFactorRequired.code(),
        "second_factor_required"
    );
}

#[test]
fn a_password_alone_does_not_sign_in_a_member_with_a_second_factor() {
    let t0 = datetime!(2026-11-26 09:00 UTC);
    let password = Assurance::signed_in(Factor::Password, t0);
    assert_eq!(password.access(false), Access::SignedIn);
    assert_eq!(password.access(true), Access::SecondFactorPending);
    let passed = password.with_second(Factor::Totp, t0 + Duration::from_secs(20));
    assert_eq!(passed.access(true), Access::SignedIn);
    assert_eq!(passed.authenticated_at, t0 + Duration::from_secs(20));
    assert_eq!(
        Assurance::signed_in(Factor::Passkey, t0).access(true),
        Access::SignedIn,
        "a passkey with user verification is two factors"
    );
}

#[test]
fn sensitive_changes_need_an_authentication_within_the_window() {
    let t0 = datetime!(2026-11-26 09:00 UTC);
    let session = Assurance::signed_in(Factor::Password, t0);
    let window = RECENT_AUTHENTICATION;
    assert_eq!(session.allows_sensitive(false, t0 + window, window), Ok(()));
    assert_eq!(
        session.allows_sensitive(false, t0 + window + Duration::from_secs(1), window),
        Err(StepUp::ReauthenticationRequired)
    );
    let later = t0 + Duration::from_secs(3600);
    assert_eq!(
        session
            .reauthenticated(later)
            .allows_sensitive(false, later, window),
        Ok(())
    );
    assert_eq!(
        session.allows_sensitive(true, t0, window),
        Err(StepUp::SecondFactorRequired)
    );
}

fn factor() -> impl Strategy<Value = Factor> {
    prop_oneof![
        Just(Factor::Password),
        Just(Factor::Passkey),
        Just(Factor::Totp),
        Just(Factor::RecoveryCode),
    ]
}

fn assurance() -> impl Strategy<Value = Assurance> {
    (
        prop_oneof![Just(Factor::Password), Just(Factor::Passkey)],
        proptest::option::of(factor()),
        0i64..2_000_000_000,
    )
        .prop_map(|(first, second, unix)| Assurance {
            first,
            second,
            authenticated_at: at(unix),
        })
}

proptest! {
    /// Signed in means: no second factor enrolled, a passkey, or a second factor passed (a
    /// password twice is one factor).
    #[test]
    fn access_is_exactly_the_rule(a in assurance(), enrolled: bool) {
        let second_passed = matches!(
            a.second,
            Some(Factor::Totp | Factor::Passkey | Factor::RecoveryCode)
        );
        let expected = !enrolled || a.first == Factor::Passkey || second_passed;
        prop_assert_eq!(a.access(enrolled) == Access::SignedIn, expected);
    }

    /// A sensitive change is allowed only to a signed-in session authenticated within the
    /// window, and stays allowed at every earlier moment since that authentication.
    #[test]
    fn sensitive_changes_follow_access_and_the_window(
        a in assurance(),
        enrolled: bool,
        elapsed in 0u64..3_600,
        window in 1u64..1_800,
        earlier in 0u64..3_600,
    ) {
        let window = Duration::from_secs(window);
        let now = a.authenticated_at + Duration::from_secs(elapsed);
        let allowed = a.allows_sensitive(enrolled, now, window);
        match a.access(enrolled) {
            Access::SecondFactorPending => {
                prop_assert_eq!(allowed, Err(StepUp::SecondFactorRequired));
            }
            Access::SignedIn => {
                prop_assert_eq!(allowed.is_ok(), Duration::from_secs(elapsed) <= window);
            }
        }
        if allowed.is_ok() {
            let before = a.authenticated_at + Duration::from_secs(earlier.min(elapsed));
            prop_assert_eq!(a.allows_sensitive(enrolled, before, window), Ok(()));
        }
        // Re-authenticating now always allows it, once the second factor is passed.
        if a.access(enrolled) == Access::SignedIn {
            prop_assert_eq!(a.reauthenticated(now).allows_sensitive(enrolled, now, window), Ok(()));
        }
    }

    /// Whatever the secret and the moment, the code of that moment is accepted then, once.
    #[test]
    fn every_moments_code_is_accepted_then_and_only_once(
        key: [u8; 20],
        unix in 0i64..4_000_000_000,
    ) {
        let secret = TotpSecret::from_bytes(key);
        let now = at(unix);
        let code = secret.code_at(now);
        prop_assert_eq!(code.len(), 6);
        let step = secret.verify(&code, now, None);
        prop_assert_eq!(step, Ok(step_of(now)));
        prop_assert_eq!(secret.verify(&code, now, Some(step_of(now))), Err(TotpError::Replayed));
    }
}
