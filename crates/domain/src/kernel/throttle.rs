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
