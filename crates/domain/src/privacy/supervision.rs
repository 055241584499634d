//! Supervision of processors (委託先の監督, APPI 第25条): for each entrusted processor, records
//! of its contract, the country its data goes to, its sub-processors, what was checked about
//! that country's rules (外的環境の把握, 第28条・ガイドライン), and each review with its
//! outcome. The console warns when a processor's last review is more than a year old, and the
//! privacy page names each processor's country from the latest record.

use time::Date;

use crate::Timestamp;
use crate::office::operators::OperatorId;

/// The longest a review may be old before the console warns (a year).
pub const REVIEW_INTERVAL_DAYS: i64 = 365;

/// The longest text of a record's field, in characters.
pub const MAX_FIELD: usize = 2_000;

/// One supervision record of a processor: the state of things as reviewed on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supervision {
    /// Its ID (set when it is recorded).
    pub id: uuid::Uuid,
    /// The processor's key in the register.
    pub processor: String,
    /// When the entrustment contract was concluded.
    pub contract_date: Date,
    /// Where the data is processed (a country's name), `日本` when it stays in Japan.
    pub country: String,
    /// The processor's own sub-processors, as it lists them.
    pub sub_processors: String,
    /// For a foreign country: what was checked about its system for protecting personal
    /// information (外的環境の把握); empty for Japan.
    pub foreign_environment: String,
    /// The day of the review.
    pub reviewed_on: Date,
    /// What the review found, and what was done.
    pub outcome: String,
    /// The administrator who recorded it.
    pub recorded_by: OperatorId,
    /// When it was recorded.
    pub recorded_at: Timestamp,
}

/// What is wrong with a supervision record's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SupervisionProblem {
    /// A field is empty (the country, the outcome) or too long.
    #[error("the country and the outcome are needed, and no field may pass {MAX_FIELD} characters")]
    Fields,
    /// A processor abroad with nothing said about its country's rules.
    #[error("a processor abroad needs what was checked about its country's rules")]
    ForeignEnvironment,
    /// The review is dated after today, or before the contract.
    #[error("the review must be dated between the contract and today")]
    Dates,
}

impl Supervision {
    /// Whether the data leaves Japan.
    pub fn abroad(&self) -> bool {
        !matches!(self.country.trim(), "日本" | "Japan" | "JP")
    }

    /// Checks the fields on `today`.
    ///
    /// # Errors
    /// [`SupervisionProblem`].
    pub fn check(&self, today: Date) -> Result<(), SupervisionProblem> {
        let fields = [
            &self.country,
            &self.sub_processors,
            &self.foreign_environment,
            &self.outcome,
        ];
        if self.country.trim().is_empty()
            || self.outcome.trim().is_empty()
            || fields
                .iter()
                .any(|f| f.chars().count() > MAX_FIELD || f.contains('\0'))
        {
            return Err(SupervisionProblem::Fields);
        }
        if self.abroad() && self.foreign_environment.trim().is_empty() {
            return Err(SupervisionProblem::ForeignEnvironment);
        }
        if self.reviewed_on > today || self.reviewed_on < self.contract_date {
            return Err(SupervisionProblem::Dates);
        }
        Ok(())
    }
}

/// Whether a processor whose latest review was on `last` (none: never) is due for one on
/// `today`.
pub fn review_due(last: Option<Date>, today: Date) -> bool {
    last.is_none_or(|day| (today - day).whole_days() > REVIEW_INTERVAL_DAYS)
}

/// The latest record of each processor among `records`.
pub fn latest<'a>(records: &'a [Supervision], processor: &str) -> Option<&'a Supervision> {
    records
        .iter()
        .filter(|s| s.processor == processor)
        .max_by_key(|s| (s.reviewed_on, s.recorded_at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn record(country: &str, environment: &str, reviewed_on: Date) -> Supervision {
        Supervision {
            id: uuid::Uuid::nil(),
            processor: "stripe".into(),
            contract_date: date!(2026 - 01 - 10),
            country: country.into(),
            sub_processors: "AWS (United States)".into(),
            foreign_environment: environment.into(),
            reviewed_on,
            outcome: "問題なし".into(),
            recorded_by: OperatorId::from_uuid(uuid::Uuid::nil()),
            recorded_at: datetime!(2026-12-01 00:00 UTC),
        }
    }

    #[test]
    fn a_review_is_due_after_a_year_or_when_there_was_none() {
        let today = date!(2026 - 12 - 05);
        assert!(review_due(None, today));
        assert!(!review_due(Some(date!(2025 - 12 - 05)), today));
        assert!(review_due(Some(date!(2025 - 12 - 04)), today));
    }

    #[test]
    fn a_processor_abroad_needs_its_countrys_rules_checked_and_dates_in_order() {
        let today = date!(2026 - 12 - 05);
        assert_eq!(
            record("United States", "", today).check(today),
            Err(SupervisionProblem::ForeignEnvironment)
        );
        assert_eq!(record("日本", "", today).check(today), Ok(()));
        assert_eq!(
            record("United States", "CBPR参加国", date!(2027 - 01 - 01)).check(today),
            Err(SupervisionProblem::Dates)
        );
        assert_eq!(
            record("United States", "CBPR参加国", today).check(today),
            Ok(())
        );
        let records = [
            record("United States", "x", date!(2025 - 01 - 01)),
            record("Ireland", "y", date!(2026 - 06 - 01)),
        ];
        assert_eq!(
            latest(&records, "stripe").map(|s| s.country.as_str()),
            Some("Ireland")
        );
        assert!(latest(&records, "mail").is_none());
    }
}
