//! Stripe's documented webhook signature scheme, shared by both adapters.

use hmac::{Hmac, Mac};
use kikeru_domain::shop::ports::WebhookError;
use sha2::Sha256;

/// How far the signed time may be from now, in seconds (Stripe's default tolerance).
pub const TOLERANCE_SECS: i64 = 300;

fn mac(secret: &[u8], timestamp: i64, payload: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length.
    #[allow(clippy::expect_used, reason = "HMAC takes keys of every length")]
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}

/// The signature header value for `payload` signed at `timestamp` with `secret`.
pub fn sign_header(secret: &[u8], timestamp: i64, payload: &[u8]) -> String {
    let signature = mac(secret, timestamp, payload).finalize().into_bytes();
    format!(
        "t={timestamp},v1={}",
        data_encoding::HEXLOWER.encode(&signature)
    )
}

/// The longest signature header read. Stripe's carries a time and one or two signatures of
/// 64 hex digits (one per secret while a secret is rolled): a few hundred bytes.
pub(crate) const MAX_HEADER_BYTES: usize = 1024;

/// The most `v1` signatures compared. Anything past them is ignored, so that no header can
/// buy more work than a handful of constant-time comparisons.
const MAX_SIGNATURES: usize = 4;

/// Checks a signature header: the signed time must be within [`TOLERANCE_SECS`] of `now`
/// (checked first: a stale or unsigned request costs no hashing), and one of at most
/// [`MAX_SIGNATURES`] `v1` signatures must match some secret. The payload is hashed once per
/// secret, whatever the header holds, and each candidate compared in constant time.
pub(crate) fn verify(
    header: Option<&str>,
    payload: &[u8],
    secrets: &[Vec<u8>],
    now: i64,
) -> Result<(), WebhookError> {
    let header = header
        .filter(|h| h.len() <= MAX_HEADER_BYTES)
        .ok_or(WebhookError::BadSignature)?;
    let mut timestamp = None;
    let mut signatures = Vec::with_capacity(MAX_SIGNATURES);
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) if signatures.len() < MAX_SIGNATURES => {
                // A SHA-256 HMAC is 32 bytes; anything else cannot match.
                if let Ok(bytes) = data_encoding::HEXLOWER_PERMISSIVE.decode(value.as_bytes())
                    && bytes.len() == 32
                {
                    signatures.push(bytes);
                }
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(WebhookError::BadSignature)?;
    if signatures.is_empty() {
        return Err(WebhookError::BadSignature);
    }
    if now.abs_diff(timestamp) > TOLERANCE_SECS.unsigned_abs() {
        return Err(WebhookError::Stale);
    }
    let matched = secrets.iter().any(|secret| {
        let hashed = mac(secret, timestamp, payload);
        signatures
            .iter()
            .any(|sig| hashed.clone().verify_slice(sig).is_ok())
    });
    if matched {
        Ok(())
    } else {
        Err(WebhookError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test_secret";

    #[test]
    fn a_header_made_by_the_scheme_verifies_with_its_secret_only() {
        let header = sign_header(SECRET, 1_700_000_000, b"{\"id\":\"evt_1\"}");
        assert_eq!(
            verify(
                Some(&header),
                b"{\"id\":\"evt_1\"}",
                &[SECRET.to_vec()],
                1_700_000_010
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                Some(&header),
                b"{\"id\":\"evt_2\"}",
                &[SECRET.to_vec()],
                1_700_000_010
            ),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify(
                Some(&header),
                b"{\"id\":\"evt_1\"}",
                &[b"other".to_vec()],
                1_700_000_010
            ),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify(None, b"x", &[SECRET.to_vec()], 0),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify(Some("t=1,v1=zz"), b"x", &[SECRET.to_vec()], 1),
            Err(WebhookError::BadSignature)
        );
    }

    #[test]
    fn signatures_outside_five_minutes_are_stale() {
        let header = sign_header(SECRET, 1_700_000_000, b"body");
        assert_eq!(
            verify(Some(&header), b"body", &[SECRET.to_vec()], 1_700_000_300),
            Ok(())
        );
        assert_eq!(
            verify(Some(&header), b"body", &[SECRET.to_vec()], 1_700_000_301),
            Err(WebhookError::Stale)
        );
        assert_eq!(
            verify(Some(&header), b"body", &[SECRET.to_vec()], 1_699_999_699),
            Err(WebhookError::Stale)
        );
    }

    #[test]
    fn any_of_several_signatures_and_secrets_may_match_during_rotation() {
        let old = sign_header(b"old-secret", 1_700_000_000, b"body");
        let new = sign_header(b"new-secret", 1_700_000_000, b"body");
        let both = format!("{old},{}", new.split(',').nth(1).unwrap());
        let secrets = [b"new-secret".to_vec()];
        assert_eq!(
            verify(Some(&both), b"body", &secrets, 1_700_000_000),
            Ok(())
        );
        let rotating = [b"unrelated".to_vec(), b"old-secret".to_vec()];
        assert_eq!(
            verify(Some(&old), b"body", &rotating, 1_700_000_000),
            Ok(())
        );
    }

    /// A vector computed independently with the scheme Stripe documents:
    /// `printf '%s' '1614556800.{"id":"evt_test"}' | openssl dgst -sha256 -hmac 'whsec_vector'`.
    #[test]
    fn the_scheme_matches_an_independently_computed_vector() {
        let header = sign_header(b"whsec_vector", 1_614_556_800, b"{\"id\":\"evt_test\"}");
        assert_eq!(header, format!("t=1614556800,v1={}", VECTOR));
    }

    const VECTOR: &str = "c5186c260e15a7a12ee04cb932e185a6029a5fc134bb78f6fe5e7335320066d3";

    /// The stall found by attacking a running instance: one request with tens of thousands of
    /// `v1=` entries hashed its body once per entry. Now an oversized header is refused
    /// unread, a stale one before any hashing, and past the first few entries nothing counts.
    #[test]
    fn a_header_cannot_buy_more_than_a_few_comparisons() {
        let now = 1_700_000_000;
        let body = vec![b'x'; 60_000];
        let good = sign_header(SECRET, now, &body);
        let signature = good.split_once(",v1=").unwrap().1;
        let flood = format!("t={now}{}", ",v1=00".repeat(60_000));
        assert_eq!(
            verify(Some(&flood), &body, &[SECRET.to_vec()], now),
            Err(WebhookError::BadSignature)
        );
        // Within the bound, the real signature after four decoys is not even looked at.
        let zeros = "0".repeat(64);
        let decoys = format!("t={now},v1={zeros},v1={zeros},v1={zeros},v1={zeros},v1={signature}");
        assert!(decoys.len() <= MAX_HEADER_BYTES);
        assert_eq!(
            verify(Some(&decoys), &body, &[SECRET.to_vec()], now),
            Err(WebhookError::BadSignature)
        );
        let second = format!("t={now},v1={zeros},v1={signature}");
        assert_eq!(
            verify(Some(&second), &body, &[SECRET.to_vec()], now),
            Ok(())
        );
        // A stale header is refused as stale, whatever it carries.
        assert_eq!(
            verify(Some(&good), &body, &[SECRET.to_vec()], now + 301),
            Err(WebhookError::Stale)
        );
        assert_eq!(
            verify(Some(&format!("t={now}")), &body, &[SECRET.to_vec()], now),
            Err(WebhookError::BadSignature)
        );
    }
}
