//! Ports every feature needs: the time, randomness, sealing secrets and rate limits.
//!
//! Each method states its contract as MUST / MUST NOT sentences; `kikeru-contract` has a
//! conformance case for each, and every adapter runs those cases.

use std::time::Duration;

use async_trait::async_trait;

use crate::{StoreError, Timestamp};

/// A hit counted by [`RateLimits::hit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hits {
    /// Hits in the current window, including this one.
    pub count: u32,
    /// When the current window ends.
    pub window_ends_at: Timestamp,
}

/// Fixed-window counters shared by every node.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RateLimits: Send + Sync + 'static {
    /// Counts a hit on `key` at `now`. When the key has no window, or its window ended at or
    /// before `now`, a new window of length `window` starts at `now` with a count of 1;
    /// otherwise the count grows by one.
    ///
    /// MUST be atomic: `n` concurrent hits in one window return the counts `1..=n` in some
    /// order.
    ///
    /// # Errors
    /// When storage fails.
    async fn hit(&self, key: &str, window: Duration, now: Timestamp) -> Result<Hits, StoreError>;

    /// The hits in the key's current window at `now` (a count of 0 when there is none),
    /// without counting one.
    ///
    /// # Errors
    /// When storage fails.
    async fn peek(&self, key: &str, now: Timestamp) -> Result<Hits, StoreError>;

    /// Forgets the key's window.
    ///
    /// # Errors
    /// When storage fails.
    async fn reset(&self, key: &str) -> Result<(), StoreError>;
}

/// The time.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync + 'static {
    /// Now, in UTC.
    fn now(&self) -> Timestamp;
}

/// Randomness from a cryptographically secure source.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Random: Send + Sync + 'static {
    /// 32 unpredictable bytes.
    fn bytes32(&self) -> [u8; 32];
}

/// What a sealed value is for. Each purpose seals under a key of its own (derived from the
/// configured one), so that a value sealed for one never opens as the other: a token handed to
/// a visitor can never be read as a stored secret, nor the reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealPurpose {
    /// A secret kept in storage (an authenticator app's shared secret).
    StoredSecret,
    /// A value handed to a visitor and brought back (a passkey ceremony).
    VisitorToken,
}

/// Encrypts small secrets (an authenticator app's shared secret, a passkey ceremony handed to
/// the browser), each bound to what it belongs to (`context`, e.g. the member's ID), with keys
/// the domain never sees; and makes keyed digests of secrets that are only ever compared.
/// Keys can be rotated: what a previous key sealed still opens, and is then stale.
pub trait Sealer: Send + Sync + 'static {
    /// `plain`, encrypted and authenticated under the current key for `purpose`, bound to
    /// `context`.
    ///
    /// # Errors
    /// [`SealError`] when the cipher fails (it does not for a valid key).
    fn seal(
        &self,
        purpose: SealPurpose,
        plain: &[u8],
        context: &[u8],
    ) -> Result<Vec<u8>, SealError>;

    /// What [`Sealer::seal`] encrypted for `purpose` and `context` under any key the sealer
    /// still holds (the current one, or one being rotated out).
    ///
    /// # Errors
    /// [`SealError`] when it was changed, made with a key no longer held, for another purpose
    /// or for another context.
    fn open(
        &self,
        purpose: SealPurpose,
        sealed: &[u8],
        context: &[u8],
    ) -> Result<Vec<u8>, SealError>;

    /// Whether `sealed` was sealed under a key other than the current one (or in an older
    /// form): it opens, but should be sealed again.
    fn is_stale(&self, sealed: &[u8]) -> bool;

    /// Keyed digests of `data`, for secrets that are only ever compared, never read back
    /// (recovery codes): the current key's first — what to store — then one per key being
    /// rotated out. A stored digest matches when it equals any of them.
    fn digests(&self, data: &[u8]) -> Vec<[u8; 32]>;
}

/// A sealed secret cannot be opened (or a secret cannot be sealed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the sealed secret cannot be opened with this key")]
pub struct SealError;
