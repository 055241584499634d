//! The [`Sealer`] contract: what every adapter that seals second-factor secrets and passkey
//! ceremonies must do, whatever its cipher.

use kikeru_domain::ports::{SealError, SealPurpose, Sealer};

const STORED: SealPurpose = SealPurpose::StoredSecret;

/// A sealed secret opens with the same key, purpose and context, and only then: not with
/// another context (a row copied to another member), not for another purpose (a visitor's token
/// read as a stored secret), not with another key, not after any byte of it changed or was cut
/// off; sealing the same secret twice gives different bytes (a fresh nonce); the secret does not
/// appear in what is stored; what the current key sealed is not stale.
///
/// # Panics
/// When the adapter breaks the contract.
#[allow(clippy::missing_panics_doc, reason = "a test suite")]
pub fn a_sealed_secret_opens_only_with_its_key_purpose_and_context_and_unchanged(
    sealer: &dyn Sealer,
    other_key: &dyn Sealer,
) {
    let secret = b"12345678901234567890";
    let sealed = sealer.seal(STORED, secret, b"member-1").expect("seal");
    assert_eq!(
        sealer.open(STORED, &sealed, b"member-1").as_deref(),
        Ok(&secret[..])
    );
    assert!(!sealer.is_stale(&sealed));
    assert!(!sealed.windows(secret.len()).any(|w| w == secret));
    assert_ne!(
        sealer.seal(STORED, secret, b"member-1").expect("seal"),
        sealed,
        "a fresh nonce each time"
    );
    assert_eq!(sealer.open(STORED, &sealed, b"member-2"), Err(SealError));
    assert_eq!(
        sealer.open(SealPurpose::VisitorToken, &sealed, b"member-1"),
        Err(SealError),
        "another purpose has another key"
    );
    assert_eq!(other_key.open(STORED, &sealed, b"member-1"), Err(SealError));
    for i in 0..sealed.len() {
        let mut changed = sealed.clone();
        changed[i] ^= 0x01;
        assert_eq!(
            sealer.open(STORED, &changed, b"member-1"),
            Err(SealError),
            "byte {i}"
        );
    }
    for len in 0..sealed.len() {
        assert_eq!(
            sealer.open(STORED, &sealed[..len], b"member-1"),
            Err(SealError),
            "cut to {len} bytes"
        );
    }
    let empty = sealer
        .seal(SealPurpose::VisitorToken, b"", b"")
        .expect("seal nothing");
    assert_eq!(
        sealer
            .open(SealPurpose::VisitorToken, &empty, b"")
            .as_deref(),
        Ok(&b""[..])
    );
}

/// During a rotation, `rotated` (a new key, with `previous`'s key still held) opens what
/// `previous` sealed and calls it stale, seals under the new key only, and gives the new key's
/// digest first and the previous key's after it; a digest depends on the key.
///
/// # Panics
/// When the adapter breaks the contract.
#[allow(clippy::missing_panics_doc, reason = "a test suite")]
pub fn a_rotated_key_still_opens_and_matches_what_the_previous_one_made(
    previous: &dyn Sealer,
    rotated: &dyn Sealer,
) {
    let old = previous.seal(STORED, b"secret", b"member-1").expect("seal");
    assert_eq!(
        rotated.open(STORED, &old, b"member-1").as_deref(),
        Ok(&b"secret"[..])
    );
    assert!(rotated.is_stale(&old));
    let new = rotated.seal(STORED, b"secret", b"member-1").expect("seal");
    assert!(!rotated.is_stale(&new));
    assert_eq!(
        previous.open(STORED, &new, b"member-1"),
        Err(SealError),
        "the previous key cannot read the new key's"
    );
    let code = b"0123456789";
    let before = previous.digests(code);
    let during = rotated.digests(code);
    assert_eq!(before.len(), 1);
    assert_eq!(during.len(), 2);
    assert_ne!(during[0], before[0], "a digest depends on the key");
    assert_eq!(
        during[1], before[0],
        "the previous key's digest still matches"
    );
    assert_ne!(rotated.digests(b"9876543210")[0], during[0]);
}
