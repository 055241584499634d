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
    /// The last day of the fiscal year, as (month, day) — accounting records are kept from the
    /// day after the filing deadline of their fiscal year (two months after its end), not from
    /// the order's date. Default 31 March.
    pub fiscal_year_end: (u8, u8),
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
            fiscal_year_end: (3, 31),
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
            accounting_before: accounting_start(now, self.accounting_records, self.fiscal_year_end),
            ledger_before: (now - self.ledger).min(years_before(now, 3)),
            inquiries_before: now - self.inquiries,
            mail_settled_before: now - self.settled_mail,
            operator_log_before: now - self.operator_log.max(LEDGER_MINIMUM),
        }
    }
}

/// Japan's time, in which fiscal years and filing deadlines fall.
const JST: time::UtcOffset = time::macros::offset!(+9);

/// `now` less `years` calendar years (29 February becomes 28 February).
fn years_before(now: Timestamp, years: i32) -> Timestamp {
    let year = now.year() - years;
    now.replace_year(year)
        .or_else(|_| now.replace_day(28).and_then(|t| t.replace_year(year)))
        .unwrap_or(now)
}

/// The first instant of the fiscal year after the one ending on `end` (month, day) of `year`, in
/// Japan.
fn next_fiscal_year(year: i32, end: (u8, u8)) -> Option<Timestamp> {
    let month = time::Month::try_from(end.0).ok()?;
    let last = time::Date::from_calendar_date(year, month, end.1).ok()?;
    Some(
        last.next_day()?
            .with_hms(0, 0, 0)
            .ok()?
            .assume_offset(JST)
            .to_offset(time::UtcOffset::UTC),
    )
}

/// The day keeping starts for the fiscal year ending in `month` of `year`: the day after the
/// filing deadline, two months after the year's end (31 March → 31 May → kept from 1 June).
fn keeping_starts(year: i32, month: u8) -> Option<Timestamp> {
    let months = i32::from(month) + 2; // the deadline's month, 1-based, may pass December
    let (year, month) = (year + months / 12, months % 12 + 1);
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let day = time::Date::from_calendar_date(year, month, 1).ok()?;
    Some(
        day.with_hms(0, 0, 0)
            .ok()?
            .assume_offset(JST)
            .to_offset(time::UtcOffset::UTC),
    )
}

/// Orders placed before the returned instant are past the accounting period at `now`: each
/// fiscal year's records are kept `period` from the day after its filing deadline (the Corporation
/// Tax Act's reckoning), not from the order's date, so a whole fiscal year leaves at once.
fn accounting_start(now: Timestamp, period: Duration, end: (u8, u8)) -> Timestamp {
    let mut year = now.to_offset(JST).year();
    while year > 1900 {
        let (Some(next), Some(starts)) = (next_fiscal_year(year, end), keeping_starts(year, end.0))
        else {
            break;
        };
        if starts + period <= now {
            return next;
        }
        year -= 1;
    }
    now - period
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
    /// Requests under APPI past their period (the inquiries' one).
    pub requests: u64,
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
        assert_eq!(careless.cutoffs(now).ledger_before, years_before(now, 3));
        let cutoffs = RetentionPolicy::default().cutoffs(now);
        assert_eq!(
            cutoffs.unverified_created_before,
            datetime!(2029-12-25 00:00 UTC)
        );
        // On 1 January 2030: the fiscal year to 31 March 2022 (filed by 31 May 2022, kept from
        // 1 June 2022 for 2,555 days, to 30 May 2029) is gone; the year to 31 March 2023 (kept
        // to 30 May 2030) stays — so orders from 1 April 2022 (JST) on stay.
        assert_eq!(
            cutoffs.accounting_before,
            datetime!(2022-04-01 00:00 +9),
            "whole fiscal years, counted from the day after the filing deadline"
        );
        assert_eq!(
            cutoffs.ledger_before,
            datetime!(2027-01-01 00:00 UTC),
            "three calendar years"
        );
    }

    #[test]
    fn accounting_records_leave_a_fiscal_year_at_a_time() {
        let policy = RetentionPolicy::default();
        // Kept from 1 June 2027 (the year to 31 March 2027) for 2,555 days: to 30 May 2034.
        let before = policy
            .cutoffs(datetime!(2034-05-29 00:00 UTC))
            .accounting_before;
        assert_eq!(before, datetime!(2026-04-01 00:00 +9));
        let after = policy
            .cutoffs(datetime!(2034-06-01 00:00 UTC))
            .accounting_before;
        assert_eq!(
            after,
            datetime!(2027-04-01 00:00 +9),
            "the year to March 2027 goes whole"
        );
        let december = RetentionPolicy {
            fiscal_year_end: (12, 31),
            ..policy
        };
        // The year 2026 is filed by 28 February 2027 and kept from 1 March 2027.
        let cut = december
            .cutoffs(datetime!(2034-02-28 00:00 UTC))
            .accounting_before;
        assert_eq!(cut, datetime!(2027-01-01 00:00 +9));
        assert_eq!(
            years_before(datetime!(2028-02-29 12:00 UTC), 3),
            datetime!(2025-02-28 12:00 UTC)
        );
    }
}
