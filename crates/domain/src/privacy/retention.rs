//! How long things are kept, as a pure rule: what is past its period at a given time. The
//! retention job purges exactly that, and deletes are idempotent, so several nodes may run it at
//! once.

use std::time::Duration;

use crate::Timestamp;

const DAY: u64 = 86_400;

/// The shortest time the disclosure ledger is kept (APPI: records of provision, 3 years).
pub const LEDGER_MINIMUM: Duration = Duration::from_secs(3 * 365 * DAY);

/// Retention periods. Defaults: unverified accounts 7 days; sessions end at their absolute
/// lifetime or idle timeout; accounting records of deleted members 7 years (the Corporation
/// Tax Act's book-keeping period); the disclosure ledger 3 years at least; inquiries 2 years
/// after they arrived; delivered or abandoned mail's outbox record (which keeps no content) 30
/// days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// An account never verified is removed after this long.
    pub unverified_accounts: Duration,
    /// A session unused this long is removed.
    pub idle_sessions: Duration,
    /// Orders and payments of deleted members are removed after this long.
    pub accounting_records: Duration,
    /// Ledger entries are removed after this long (never less than [`LEDGER_MINIMUM`]).
    pub ledger: Duration,
    /// Inquiries (with their answers) are removed this long after they arrived.
    pub inquiries: Duration,
    /// The outbox's record of a settled mail is removed this long after it was settled.
    pub settled_mail: Duration,
    /// The operators' log is removed this long after each entry (never less than
    /// [`LEDGER_MINIMUM`]: it records the disclosures and legal orders whose own records the
    /// law keeps three years).
    pub operator_log: Duration,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            unverified_accounts: Duration::from_secs(7 * DAY),
            idle_sessions: Duration::from_secs(7 * DAY),
            accounting_records: Duration::from_secs(7 * 365 * DAY),
            ledger: LEDGER_MINIMUM,
            inquiries: Duration::from_secs(2 * 365 * DAY),
            settled_mail: Duration::from_secs(30 * DAY),
            operator_log: LEDGER_MINIMUM,
        }
    }
}

/// A retention period is shorter than the law allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the disclosure ledger must be kept at least three years")]
pub struct TooShort;

/// The moments before which things are past their period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    /// Now: expired sessions and tokens end before it.
    pub now: Timestamp,
    /// Unverified accounts created before this go.
    pub unverified_created_before: Timestamp,
    /// Sessions last seen before this go.
    pub sessions_seen_before: Timestamp,
    /// Deleted members' orders placed before this go.
    pub accounting_before: Timestamp,
    /// Ledger entries made before this go.
    pub ledger_before: Timestamp,
    /// Inquiries that arrived before this go.
    pub inquiries_before: Timestamp,
    /// Outbox records of mail settled before this go.
    pub mail_settled_before: Timestamp,
    /// Entries of the operators' log made before this go.
    pub operator_log_before: Timestamp,
}

impl RetentionPolicy {
    /// Checks the periods against the law.
    ///
    /// # Errors
    /// [`TooShort`] for a ledger period under three years.
    pub fn validate(&self) -> Result<(), TooShort> {
        if self.ledger < LEDGER_MINIMUM || self.operator_log < LEDGER_MINIMUM {
            Err(TooShort)
        } else {
            Ok(())
        }
    }

    /// What is past its period at `now`. The ledger period never counts as less than three
    /// years, whatever was configured.
    pub fn cutoffs(&self, now: Timestamp) -> Cutoffs {
        Cutoffs {
            now,
            unverified_created_before: now - self.unverified_accounts,
            sessions_seen_before: now - self.idle_sessions,
            accounting_before: now - self.accounting_records,
            ledger_before: now - self.ledger.max(LEDGER_MINIMUM),
            inquiries_before: now - self.inquiries,
            mail_settled_before: now - self.settled_mail,
            operator_log_before: now - self.operator_log.max(LEDGER_MINIMUM),
        }
    }
}

/// How many records a purge removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Purged {
    /// Unverified accounts (erased like deleted ones).
    pub unverified_accounts: u64,
    /// Sessions past their lifetime or idle timeout.
    pub sessions: u64,
    /// Mailed tokens past their expiry.
    pub tokens: u64,
    /// Deleted members' orders past the accounting period (with their payments).
    pub accounting_orders: u64,
    /// Ledger entries past their period.
    pub ledger_entries: u64,
    /// Inquiries past their period.
    pub inquiries: u64,
    /// Outbox records of settled mail past their period.
    pub settled_mail: u64,
    /// Rate-limit counters whose window has ended (they count nothing any more).
    pub rate_limits: u64,
    /// Entries of the operators' log past their period.
    pub operator_events: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_ledger_is_never_cut_before_three_years_whatever_is_configured() {
        let now = datetime!(2030-01-01 00:00 UTC);
        let careless = RetentionPolicy {
            ledger: Duration::from_secs(DAY),
            ..RetentionPolicy::default()
        };
        assert_eq!(careless.validate(), Err(TooShort));
        assert_eq!(careless.cutoffs(now).ledger_before, now - LEDGER_MINIMUM);
        let cutoffs = RetentionPolicy::default().cutoffs(now);
        assert_eq!(
            cutoffs.unverified_created_before,
            datetime!(2029-12-25 00:00 UTC)
        );
        assert_eq!(
            cutoffs.accounting_before,
            datetime!(2023-01-03 00:00 UTC),
            "7 × 365 days"
        );
    }
}
