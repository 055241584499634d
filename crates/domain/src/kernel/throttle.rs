//! Rate limits against brute force and abuse. Counters live behind the
//! [`crate::kernel::ports::RateLimits`] port (in the database, so that every node shares them); the
//! limits, the callers they count and the keys they count under are here.

use std::time::Duration;

use sha2::{Digest, Sha256};

/// Who is calling, for per-client rate limits: an opaque key (the client's address). It is
/// hashed before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// The key.
    pub key: String,
    /// The browser label to record on a new session.
    pub browser: String,
}

/// The caller made too many attempts; try again after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many attempts; retry after {retry_after:?}")]
pub struct Throttled {
    /// How long until the window ends.
    pub retry_after: Duration,
}

/// The rate-limit key for a scope and a value: a hash, so that no address is stored in the
/// counters table.
pub(crate) fn throttle_key(scope: &str, value: &str) -> String {
    let digest = Sha256::digest(format!("{scope}\u{0}{value}").as_bytes());
    format!("{scope}:{}", data_encoding::HEXLOWER.encode(&digest[..16]))
}

/// Counts one attempt of `value` in `scope` at `now` under `rule`: `Some` with how long to wait
/// when the attempt is one too many.
///
/// # Errors
/// When the counters cannot be read or written.
pub(crate) async fn count(
    limits: &dyn crate::kernel::ports::RateLimits,
    now: crate::Timestamp,
    scope: &str,
    value: &str,
    rule: crate::ThrottleRule,
) -> Result<Option<Throttled>, crate::StoreError> {
    let hits = limits
        .hit(&throttle_key(scope, value), rule.window, now)
        .await?;
    if !rule.exceeded_by(hits.count) {
        return Ok(None);
    }
    let retry_after = Duration::try_from(hits.window_ends_at - now)
        .unwrap_or_default()
        .max(Duration::from_secs(1));
    Ok(Some(Throttled { retry_after }))
}

/// The rate-limit counters with every key made a keyed digest (HMAC-SHA-256 under a key of the
/// server's, [`crate::kernel::ports::Sealer::digests`]) before it is stored: a counter's key names its
/// scope (`sign-in-failures:…`) and nothing that anyone without the server's key could
/// recompute from an address or an IP. Every use case counts through it
/// ([`crate::Services::new`]).
pub struct KeyedLimits {
    inner: std::sync::Arc<dyn crate::kernel::ports::RateLimits>,
    sealer: std::sync::Arc<dyn crate::kernel::ports::Sealer>,
}

impl std::fmt::Debug for KeyedLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedLimits").finish_non_exhaustive()
    }
}

impl KeyedLimits {
    /// Counters in `inner`, keyed under `sealer`'s current digest key.
    pub fn new(
        inner: std::sync::Arc<dyn crate::kernel::ports::RateLimits>,
        sealer: std::sync::Arc<dyn crate::kernel::ports::Sealer>,
    ) -> Self {
        Self { inner, sealer }
    }

    /// The stored form of `key`: its scope, then 128 bits of its keyed digest.
    fn keyed(&self, key: &str) -> String {
        let scope = key.split_once(':').map_or("limit", |(scope, _)| scope);
        let digest = self
            .sealer
            .digests(key.as_bytes())
            .into_iter()
            .next()
            .unwrap_or_default();
        format!("{scope}:{}", data_encoding::HEXLOWER.encode(&digest[..16]))
    }
}

#[async_trait::async_trait]
impl crate::kernel::ports::RateLimits for KeyedLimits {
    async fn hit(
        &self,
        key: &str,
        window: Duration,
        now: crate::Timestamp,
    ) -> Result<crate::kernel::ports::Hits, crate::StoreError> {
        self.inner.hit(&self.keyed(key), window, now).await
    }

    async fn peek(
        &self,
        key: &str,
        now: crate::Timestamp,
    ) -> Result<crate::kernel::ports::Hits, crate::StoreError> {
        self.inner.peek(&self.keyed(key), now).await
    }

    async fn reset(&self, key: &str) -> Result<(), crate::StoreError> {
        self.inner.reset(&self.keyed(key)).await
    }
}

/// A limit: at most `max` hits per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleRule {
    /// Hits allowed in one window.
    pub max: u32,
    /// The length of the fixed window.
    pub window: Duration,
}

impl ThrottleRule {
    /// Whether the `count`-th hit in a window is over the limit.
    pub const fn exceeded_by(&self, count: u32) -> bool {
        count > self.max
    }
}

/// The limits the membership use cases apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Sign-in attempts from one client (address), successful or not.
    pub sign_in_per_client: ThrottleRule,
    /// Failed sign-ins for one e-mail address, known or not; past it the address is locked
    /// for the rest of the window.
    pub sign_in_failures_per_account: ThrottleRule,
    /// Registrations from one client.
    pub register_per_client: ThrottleRule,
    /// Password-reset requests from one client.
    pub reset_per_client: ThrottleRule,
    /// Password-reset mails to one address (more requests are answered alike, but no mail).
    pub reset_mails_per_account: ThrottleRule,
    /// Wrong current passwords typed on My Page by one member.
    pub reauth_failures_per_member: ThrottleRule,
    /// Wrong second-factor codes (authenticator app or recovery code) for one member; past it
    /// the member's second factor is locked for the rest of the window, like a password.
    pub second_factor_failures_per_member: ThrottleRule,
    /// Second-factor code checks since the member's last right code, in total (NIST SP
    /// 800-63B §5.2.2 allows at most 100): past it codes are refused until the password is
    /// reset, and the member is told. The window only bounds how long the count is kept.
    pub second_factor_failures_in_a_row: ThrottleRule,
}

const MINUTE: u64 = 60;

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            sign_in_per_client: ThrottleRule {
                max: 30,
                window: Duration::from_secs(15 * MINUTE),
            },
            sign_in_failures_per_account: ThrottleRule {
                max: 5,
                window: Duration::from_secs(15 * MINUTE),
            },
            register_per_client: ThrottleRule {
                max: 10,
                window: Duration::from_secs(60 * MINUTE),
            },
            reset_per_client: ThrottleRule {
                max: 10,
                window: Duration::from_secs(60 * MINUTE),
            },
            reset_mails_per_account: ThrottleRule {
                max: 3,
                window: Duration::from_secs(60 * MINUTE),
            },
            reauth_failures_per_member: ThrottleRule {
                max: 5,
                window: Duration::from_secs(15 * MINUTE),
            },
            second_factor_failures_per_member: ThrottleRule {
                max: 5,
                window: Duration::from_secs(15 * MINUTE),
            },
            second_factor_failures_in_a_row: ThrottleRule {
                max: 100,
                window: Duration::from_secs(90 * 24 * 60 * MINUTE),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::ports::{Hits, RateLimits, SealError, SealPurpose, Sealer};
    use std::sync::{Arc, Mutex};

    /// Records the keys it is asked to count under.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);

    #[async_trait::async_trait]
    impl RateLimits for Recorder {
        async fn hit(
            &self,
            key: &str,
            window: Duration,
            now: crate::Timestamp,
        ) -> Result<Hits, crate::StoreError> {
            self.0.lock().unwrap().push(key.to_owned());
            Ok(Hits {
                count: 1,
                window_ends_at: now + window,
            })
        }
        async fn peek(&self, key: &str, now: crate::Timestamp) -> Result<Hits, crate::StoreError> {
            self.0.lock().unwrap().push(key.to_owned());
            Ok(Hits {
                count: 0,
                window_ends_at: now,
            })
        }
        async fn reset(&self, key: &str) -> Result<(), crate::StoreError> {
            self.0.lock().unwrap().push(key.to_owned());
            Ok(())
        }
    }

    /// Digests keyed by its byte (a stand-in for HMAC under a server key).
    struct Keyed(u8);

    impl Sealer for Keyed {
        fn seal(&self, _: SealPurpose, _: &[u8], _: &[u8]) -> Result<Vec<u8>, SealError> {
            Err(SealError)
        }
        fn open(&self, _: SealPurpose, _: &[u8], _: &[u8]) -> Result<Vec<u8>, SealError> {
            Err(SealError)
        }
        fn is_stale(&self, _: &[u8]) -> bool {
            false
        }
        fn digests(&self, data: &[u8]) -> Vec<[u8; 32]> {
            let mut keyed = vec![self.0];
            keyed.extend_from_slice(data);
            vec![Sha256::digest(&keyed).into()]
        }
    }

    #[test]
    fn counters_are_stored_under_a_keyed_digest_no_one_can_recompute() {
        let now = time::macros::datetime!(2026-04-01 09:00 UTC);
        let stored = |key: u8| {
            let recorder = Arc::new(Recorder::default());
            let limits = KeyedLimits::new(recorder.clone(), Arc::new(Keyed(key)));
            let raw = throttle_key("inquiry-address", "hanako@example.jp");
            futures_executor::block_on(limits.hit(&raw, Duration::from_secs(60), now)).unwrap();
            futures_executor::block_on(limits.reset(&raw)).unwrap();
            let keys = recorder.0.lock().unwrap().clone();
            assert_eq!(keys[0], keys[1], "the same counter each time");
            assert_ne!(keys[0], raw, "never the plain hash of the address");
            assert!(
                keys[0].starts_with("inquiry-address:"),
                "the scope stays readable"
            );
            keys[0].clone()
        };
        assert_ne!(
            stored(1),
            stored(2),
            "another server key, another stored key"
        );
    }

    #[test]
    fn a_rule_allows_exactly_max_hits_per_window() {
        let rule = ThrottleRule {
            max: 5,
            window: Duration::from_secs(60),
        };
        assert!(!rule.exceeded_by(1));
        assert!(!rule.exceeded_by(5));
        assert!(rule.exceeded_by(6));
    }
}
