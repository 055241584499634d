//! Responding to a leak of personal data (個人情報保護法 第26条): whether a suspected incident
//! must be reported to the Personal Information Protection Commission and notified to the
//! people concerned, and by when (pure); the report's content; and the workflow of the office
//! ([`IncidentDesk`]): record the incident, mark the reports submitted, and — on an
//! administrator's approval — put a notice to each member concerned in the outbox, in their
//! language, in batches that resume where they stopped.
//!
//! It must be when any of these holds (施行規則 第7条): sensitive personal data (要配慮個人情報)
//! is involved; data whose misuse may cause financial harm (passwords, second-factor secrets,
//! payment data) is involved; a malicious act (不正の目的) is suspected; or more than 1,000
//! people are concerned. The preliminary report is due promptly — the Commission's guidance
//! reads that as about three to five days from discovery — and the final report within 30
//! days, or 60 when a malicious act is suspected.

pub(crate) mod model;
pub mod ports;

pub use model::*;

use std::fmt;
use std::sync::Arc;

use crate::changes::{Change, Changes, UnitOfWork};
use crate::kernel::ports::{Clock, Random};
use crate::mail::message::Mail;
use crate::mail::outbox::Envelope;
use crate::membership::ports::Members;
use crate::office::incident::ports::Incidents;
use crate::office::operators::OperatorId;
use crate::{StoreError, Timestamp};

/// What the incident desk runs on.
#[derive(Clone)]
pub struct IncidentPorts {
    /// Incident storage.
    pub incidents: Arc<dyn Incidents>,
    /// Members (their address and language, for the notice).
    pub members: Arc<dyn Members>,
    /// Applies a batch of notices with its progress atomically.
    pub unit: Arc<dyn UnitOfWork>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Randomness (IDs).
    pub random: Arc<dyn Random>,
}

impl fmt::Debug for IncidentPorts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IncidentPorts { .. }")
    }
}

/// Notices put in the outbox per unit of work.
pub const NOTICE_BATCH: u32 = 200;

/// The office's handling of incidents.
#[derive(Debug, Clone)]
pub struct IncidentDesk {
    ports: IncidentPorts,
}

impl IncidentDesk {
    /// A desk on `ports`.
    pub const fn new(ports: IncidentPorts) -> Self {
        Self { ports }
    }

    /// Now, by the desk's clock.
    pub fn now(&self) -> Timestamp {
        self.ports.clock.now()
    }

    /// Records an incident `by` an operator.
    ///
    /// # Errors
    /// [`IncidentError::Invalid`] when it was discovered in the future, concerns no one or no
    /// category, or its cause is empty or longer than [`MAX_CAUSE_CHARS`].
    pub async fn record(
        &self,
        draft: IncidentDraft,
        by: OperatorId,
    ) -> Result<Incident, IncidentError> {
        let now = self.ports.clock.now();
        let facts = IncidentFacts {
            cause: draft.facts.cause.trim().to_owned(),
            ..draft.facts
        };
        if facts.discovered_at > now {
            return Err(IncidentError::Invalid("discovery time"));
        }
        if facts.categories.is_empty() {
            return Err(IncidentError::Invalid("categories"));
        }
        if facts.cause.is_empty() || facts.cause.chars().count() > MAX_CAUSE_CHARS {
            return Err(IncidentError::Invalid("cause"));
        }
        let known = match &draft.concerned {
            Concerned::Members(members) => members.len() as u64,
            Concerned::Everyone => 1,
        };
        if known == 0 || facts.people < known {
            return Err(IncidentError::Invalid("number of people"));
        }
        let incident = Incident {
            id: IncidentId(crate::kernel::ids::uuid_v7(
                now,
                &self.ports.random.bytes32(),
            )),
            facts,
            concerned: draft.concerned,
            recorded_at: now,
            recorded_by: by,
            preliminary_reported_at: None,
            final_reported_at: None,
            notice: None,
        };
        self.ports.incidents.insert(&incident).await?;
        Ok(incident)
    }

    /// Every incident, the most recently discovered first.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn all(&self) -> Result<Vec<Incident>, StoreError> {
        self.ports.incidents.all().await
    }

    /// The incident with this ID.
    ///
    /// # Errors
    /// [`IncidentError::NotFound`], or when storage fails.
    pub async fn get(&self, id: IncidentId) -> Result<Incident, IncidentError> {
        self.ports
            .incidents
            .by_id(id)
            .await?
            .ok_or(IncidentError::NotFound)
    }

    /// Records that the `stage` report was submitted now.
    ///
    /// # Errors
    /// [`IncidentError::NotFound`], or when storage fails.
    pub async fn reported(&self, id: IncidentId, stage: Stage) -> Result<Incident, IncidentError> {
        match self
            .ports
            .incidents
            .mark_reported(id, stage, self.ports.clock.now())
            .await
        {
            Ok(incident) => Ok(incident),
            Err(StoreError::NotFound) => Err(IncidentError::NotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// Approves the notice to the members concerned (`by`, an administrator; the first
    /// approval stays) and puts it in the outbox for at most `batches` batches of
    /// [`NOTICE_BATCH`] members; [`IncidentDesk::continue_notices`] (the server runs it every
    /// few seconds) sends the rest. Answers the incident as it stands.
    ///
    /// # Errors
    /// [`IncidentError::NotFound`], or when storage fails (what was sent stays sent; the rest
    /// goes on later).
    pub async fn approve_notice(
        &self,
        id: IncidentId,
        by: OperatorId,
        batches: u32,
    ) -> Result<Incident, IncidentError> {
        let now = self.ports.clock.now();
        let incident = match self.ports.incidents.approve_notice(id, by, now).await {
            Ok(incident) => incident,
            Err(StoreError::NotFound) => return Err(IncidentError::NotFound),
            Err(e) => return Err(e.into()),
        };
        self.send_notices(incident, batches).await
    }

    /// Goes on with every approved notice not yet done, at most `batches` batches each;
    /// answers how many notices it put in the outbox.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn continue_notices(&self, batches: u32) -> Result<u64, IncidentError> {
        let mut sent = 0;
        for incident in self.ports.incidents.all().await? {
            let before = match &incident.notice {
                Some(n) if !n.done => n.sent,
                _ => continue,
            };
            let after = self.send_notices(incident, batches).await?;
            sent += after.notice.map_or(0, |n| n.sent.saturating_sub(before));
        }
        Ok(sent)
    }

    /// Puts the approved notice of `incident` in the outbox, each in the member's language,
    /// batch by batch: each batch and the progress it makes are one unit of work, so a run
    /// stopped half-way (a crash, a second run at once on another node) goes on after the
    /// last member reached and nobody is told twice. Members whose account is gone are
    /// skipped.
    async fn send_notices(
        &self,
        mut incident: Incident,
        batches: u32,
    ) -> Result<Incident, IncidentError> {
        let now = self.ports.clock.now();
        for _ in 0..batches {
            let Some(notice) = incident.notice.clone() else {
                return Ok(incident);
            };
            if notice.done {
                return Ok(incident);
            }
            let batch = match &incident.concerned {
                Concerned::Members(members) => members
                    .iter()
                    .filter(|m| notice.cursor.is_none_or(|c| **m > c))
                    .take(NOTICE_BATCH as usize)
                    .copied()
                    .collect::<Vec<_>>(),
                Concerned::Everyone => {
                    self.ports
                        .incidents
                        .members_after(notice.cursor, incident.recorded_at, NOTICE_BATCH)
                        .await?
                }
            };
            let mut changes = Changes::new();
            let mut sent = 0;
            for member_id in &batch {
                let Some(member) = self.ports.members.by_id(*member_id).await? else {
                    continue;
                };
                changes.push(Change::Send(Envelope {
                    id: notice_id(incident.id, member.id),
                    member_id: Some(member.id),
                    mail: Mail {
                        to: member.email.clone(),
                        language: member.language,
                        message: notice_message(&incident),
                    },
                    created_at: now,
                }));
                sent += 1;
            }
            let done = batch.len() < NOTICE_BATCH as usize;
            changes.push(Change::NoticeProgress {
                incident: incident.id,
                from: notice.cursor,
                to: batch.last().copied().or(notice.cursor),
                sent,
                done,
            });
            let raced = match self.ports.unit.apply(changes).await {
                Ok(()) => false,
                // Another run moved the progress first: read where it is and go on from there.
                Err(StoreError::Conflict) => true,
                Err(e) => return Err(e.into()),
            };
            incident = self.get(incident.id).await?;
            if raced && incident.notice.as_ref() == Some(&notice) {
                return Err(IncidentError::Store(StoreError::Other(
                    "the notice made no progress".into(),
                )));
            }
        }
        Ok(incident)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemberId;
    use crate::privacy::DataCategory;
    use crate::shop::legal::Seller;
    use proptest::prelude::*;
    use std::time::Duration;
    use time::macros::datetime;
    use uuid::Uuid;

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

    fn recorded(facts: IncidentFacts) -> Incident {
        Incident {
            id: IncidentId(Uuid::from_u128(7)),
            facts,
            concerned: Concerned::Everyone,
            recorded_at: datetime!(2026-11-26 11:00 UTC),
            recorded_by: OperatorId::from_uuid(Uuid::from_u128(1)),
            preliminary_reported_at: None,
            final_reported_at: None,
            notice: None,
        }
    }

    #[test]
    fn the_next_deadline_is_the_first_report_not_yet_submitted() {
        let quiet = recorded(facts());
        assert_eq!(quiet.next_deadline(), None, "nothing is due");
        let mut leak = recorded(IncidentFacts {
            malicious_suspected: true,
            ..facts()
        });
        let d = leak.facts.deadlines().unwrap();
        assert_eq!(
            leak.next_deadline(),
            Some((Stage::Preliminary, d.preliminary_latest))
        );
        leak.preliminary_reported_at = Some(datetime!(2026-11-28 10:00 UTC));
        assert_eq!(leak.next_deadline(), Some((Stage::Final, d.final_report)));
        leak.final_reported_at = Some(datetime!(2027-01-10 10:00 UTC));
        assert_eq!(leak.next_deadline(), None);
    }

    #[test]
    fn the_report_is_preliminary_then_final_and_says_what_the_record_says() {
        let mut leak = recorded(IncidentFacts {
            people: 1_500,
            people_estimated: true,
            credentials_or_payment: true,
            ..facts()
        });
        let seller = Seller::sample();
        let now = datetime!(2026-11-27 03:00 UTC);
        let first = report(&leak, &seller, now);
        let item = |sections: &[(&str, String)], name: &str| {
            sections
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(item(&first, "報告の種類"), "速報");
        assert_eq!(item(&first, "発覚日時"), "2026年11月26日 19時00分");
        assert!(item(&first, "報告者").contains(&seller.name));
        assert_eq!(
            item(
                &first,
                "漏えい等が発生し、又は発生したおそれがある個人データに係る本人の数"
            ),
            "約1,500人（見込み）"
        );
        assert!(item(&first, "報告対象となる事態").contains("第2号"));
        assert!(item(&first, "報告対象となる事態").contains("第4号"));
        assert!(item(&first, "二次被害又はそのおそれの有無及びその内容").starts_with("あり"));
        assert!(item(&first, "本人への対応の実施状況").starts_with("未実施"));
        assert!(item(&first, "報告期限").contains("2026年12月26日 19時00分"));
        leak.preliminary_reported_at = Some(now);
        leak.notice = Some(Notice {
            approved_by: OperatorId::from_uuid(Uuid::from_u128(2)),
            approved_at: now,
            cursor: None,
            sent: 1_432,
            done: true,
        });
        let last = report(&leak, &seller, now);
        assert_eq!(item(&last, "報告の種類"), "確報");
        assert!(item(&last, "本人への対応の実施状況").contains("1,432人に電子メールで通知した"));
    }

    #[test]
    fn a_notice_has_one_id_per_incident_and_member() {
        let (a, b) = (
            IncidentId(Uuid::from_u128(1)),
            IncidentId(Uuid::from_u128(2)),
        );
        let (m, n) = (
            MemberId::from_uuid(Uuid::from_u128(10)),
            MemberId::from_uuid(Uuid::from_u128(11)),
        );
        assert_eq!(notice_id(a, m), notice_id(a, m));
        let ids: std::collections::HashSet<Uuid> = [
            notice_id(a, m),
            notice_id(a, n),
            notice_id(b, m),
            notice_id(b, n),
        ]
        .into_iter()
        .collect();
        assert_eq!(ids.len(), 4);
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
