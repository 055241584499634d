//! The [`Sealer`] contract: what every adapter that keeps second-factor secrets encrypted must
//! do, whatever its cipher.

use kikeru_domain::ports::{SealError, Sealer};

/// A sealed secret opens with the same key and context, and only then: not with another
/// context (a row copied to another member), not with another key, not after any byte of it
/// changed or was cut off; sealing the same secret twice gives different bytes (a fresh nonce);
/// the secret does not appear in what is stored.
///
/// # Panics
/// When the adapter breaks the contract.
#[allow(clippy::missing_panics_doc, reason = "a test suite")]
pub fn a_sealed_secret_opens_only_with_its_key_and_context_and_unchanged(
    sealer: &dyn Sealer,
    other_key: &dyn Sealer,
) {
    let secret = b"12345678901234567890";
    let sealed = sealer.seal(secret, b"member-1").expect("seal");
    assert_eq!(
        sealer.open(&sealed, b"member-1").as_deref(),
        Ok(&secret[..])
    );
    assert!(!sealed.windows(secret.len()).any(|w| w == secret));
    assert_ne!(
        sealer.seal(secret, b"member-1").expect("seal"),
        sealed,
        "a fresh nonce each time"
    );
    assert_eq!(sealer.open(&sealed, b"member-2"), Err(SealError));
    assert_eq!(other_key.open(&sealed, b"member-1"), Err(SealError));
    for i in 0..sealed.len() {
        let mut changed = sealed.clone();
        changed[i] ^= 0x01;
        assert_eq!(
            sealer.open(&changed, b"member-1"),
            Err(SealError),
            "byte {i}"
        );
    }
    for len in 0..sealed.len() {
        assert_eq!(
            sealer.open(&sealed[..len], b"member-1"),
            Err(SealError),
            "cut to {len} bytes"
        );
    }
    let empty = sealer.seal(b"", b"").expect("seal nothing");
    assert_eq!(sealer.open(&empty, b"").as_deref(), Ok(&b""[..]));
}
