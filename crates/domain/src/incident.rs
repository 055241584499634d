//! Responding to a leak of personal data (個人情報保護法 第26条), pure: whether a suspected
//! incident must be reported to the Personal Information Protection Commission and notified
//! to the people concerned, and by when.
//!
//! It must be when any of these holds (施行規則 第7条): sensitive personal data (要配慮個人情報)
//! is involved; data whose misuse may cause financial harm (passwords, second-factor secrets,
//! payment data) is involved; a malicious act (不正の目的) is suspected; or more than 1,000
//! people are concerned. The preliminary report is due promptly — the Commission's guidance
//! reads that as about three to five days from discovery — and the final report within 30
//! days, or 60 when a malicious act is suspected.

use std::time::Duration;

use crate::Timestamp;
use crate::privacy::Categories;

/// The preliminary report's target: three days from discovery.
pub const PRELIMINARY_TARGET: Duration = Duration::from_secs(3 * 86_400);
/// The preliminary report's latest day: five days from discovery.
pub const PRELIMINARY_LATEST: Duration = Duration::from_secs(5 * 86_400);
/// The final report: 30 days from discovery.
pub const FINAL: Duration = Duration::from_secs(30 * 86_400);
/// The final report when a malicious act is suspected: 60 days.
pub const FINAL_MALICIOUS: Duration = Duration::from_secs(60 * 86_400);

/// More people than this concerned makes an incident reportable.
pub const PEOPLE_THRESHOLD: u64 = 1_000;

/// What an operator records about a suspected incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFacts {
    /// When it was discovered.
    pub discovered_at: Timestamp,
    /// The categories of member data concerned.
    pub categories: Categories,
    /// Whether passwords, second-factor secrets or payment data are concerned.
    pub credentials_or_payment: bool,
    /// Whether sensitive personal data (要配慮個人情報) is concerned.
    pub sensitive: bool,
    /// How many people are concerned.
    pub people: u64,
    /// Whether `people` is an estimate.
    pub people_estimated: bool,
    /// What happened.
    pub cause: String,
    /// Whether a malicious act (unauthorised access, theft) is suspected.
    pub malicious_suspected: bool,
}

/// Why an incident must be reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportReason {
    /// Sensitive personal data.
    Sensitive,
    /// Data whose misuse may cause financial harm.
    FinancialHarm,
    /// A suspected malicious act.
    Malicious,
    /// More than 1,000 people.
    ManyPeople,
}

impl ReportReason {
    /// The stable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sensitive => "sensitive_data",
            Self::FinancialHarm => "financial_harm",
            Self::Malicious => "malicious_act",
            Self::ManyPeople => "more_than_1000_people",
        }
    }
}

/// The report deadlines of a reportable incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// The preliminary report's target (three days).
    pub preliminary_target: Timestamp,
    /// The preliminary report's latest (five days).
    pub preliminary_latest: Timestamp,
    /// The final report.
    pub final_report: Timestamp,
}

impl IncidentFacts {
    /// Why it must be reported; empty when it need not be.
    pub fn reasons(&self) -> Vec<ReportReason> {
        let mut reasons = Vec::new();
        if self.sensitive {
            reasons.push(ReportReason::Sensitive);
        }
        if self.credentials_or_payment {
            reasons.push(ReportReason::FinancialHarm);
        }
        if self.malicious_suspected {
            reasons.push(ReportReason::Malicious);
        }
        if self.people > PEOPLE_THRESHOLD {
            reasons.push(ReportReason::ManyPeople);
        }
        reasons
    }

    /// Whether the Commission must be told and the people concerned notified.
    pub fn must_report(&self) -> bool {
        !self.reasons().is_empty()
    }

    /// The deadlines, for a reportable incident.
    pub fn deadlines(&self) -> Option<Deadlines> {
        if !self.must_report() {
            return None;
        }
        let final_period = if self.malicious_suspected {
            FINAL_MALICIOUS
        } else {
            FINAL
        };
        Some(Deadlines {
            preliminary_target: self.discovered_at + PRELIMINARY_TARGET,
            preliminary_latest: self.discovered_at + PRELIMINARY_LATEST,
            final_report: self.discovered_at + final_period,
        })
    }
}

/// How long is left until `deadline` at `now`; `None` when it has passed.
pub fn time_left(deadline: Timestamp, now: Timestamp) -> Option<Duration> {
    Duration::try_from(deadline - now)
        .ok()
        .filter(|d| !d.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::privacy::DataCategory;
    use proptest::prelude::*;
    use time::macros::datetime;

    fn facts() -> IncidentFacts {
        IncidentFacts {
            discovered_at: datetime!(2026-11-26 10:00 UTC),
            categories: [DataCategory::EmailAddress].into_iter().collect(),
            credentials_or_payment: false,
            sensitive: false,
            people: 12,
            people_estimated: false,
            cause: "a misdirected mail".to_owned(),
            malicious_suspected: false,
        }
    }

    #[test]
    fn a_small_accident_without_risky_data_need_not_be_reported() {
        let small = facts();
        assert!(!small.must_report());
        assert_eq!(small.deadlines(), None);
        let thousand = IncidentFacts {
            people: 1_000,
            ..facts()
        };
        assert!(!thousand.must_report(), "more than 1,000, not 1,000");
    }

    #[test]
    fn each_reason_makes_it_reportable_with_its_deadlines() {
        let discovered = datetime!(2026-11-26 10:00 UTC);
        let many = IncidentFacts {
            people: 1_001,
            people_estimated: true,
            ..facts()
        };
        assert_eq!(many.reasons(), vec![ReportReason::ManyPeople]);
        let deadlines = many.deadlines().unwrap();
        assert_eq!(
            deadlines.preliminary_target,
            datetime!(2026-11-29 10:00 UTC)
        );
        assert_eq!(
            deadlines.preliminary_latest,
            datetime!(2026-12-01 10:00 UTC)
        );
        assert_eq!(deadlines.final_report, datetime!(2026-12-26 10:00 UTC));
        let attack = IncidentFacts {
            malicious_suspected: true,
            credentials_or_payment: true,
            ..facts()
        };
        assert_eq!(
            attack.reasons(),
            vec![ReportReason::FinancialHarm, ReportReason::Malicious]
        );
        assert_eq!(
            attack.deadlines().unwrap().final_report,
            discovered + Duration::from_secs(60 * 86_400)
        );
        let sensitive = IncidentFacts {
            sensitive: true,
            ..facts()
        };
        assert_eq!(sensitive.reasons(), vec![ReportReason::Sensitive]);
    }

    #[test]
    fn the_countdown_ends_at_the_deadline() {
        let deadline = datetime!(2026-12-01 10:00 UTC);
        assert_eq!(
            time_left(deadline, datetime!(2026-11-30 10:00 UTC)),
            Some(Duration::from_secs(86_400))
        );
        assert_eq!(time_left(deadline, deadline), None);
        assert_eq!(time_left(deadline, datetime!(2026-12-02 10:00 UTC)), None);
    }

    proptest! {
        /// Reportable exactly when one of the four conditions holds; the deadlines are in
        /// order and the final one is 60 days exactly when malice is suspected.
        #[test]
        fn the_rule_is_exactly_the_four_conditions(
            sensitive: bool,
            money: bool,
            malicious: bool,
            people in 0u64..5_000,
        ) {
            let incident = IncidentFacts {
                sensitive,
                credentials_or_payment: money,
                malicious_suspected: malicious,
                people,
                ..facts()
            };
            let expected = sensitive || money || malicious || people > 1_000;
            prop_assert_eq!(incident.must_report(), expected);
            if let Some(d) = incident.deadlines() {
                prop_assert!(incident.discovered_at < d.preliminary_target);
                prop_assert!(d.preliminary_target < d.preliminary_latest);
                prop_assert!(d.preliminary_latest < d.final_report);
                let days = if malicious { 60 } else { 30 };
                prop_assert_eq!(d.final_report, incident.discovered_at + Duration::from_secs(days * 86_400));
            }
        }
    }
}
