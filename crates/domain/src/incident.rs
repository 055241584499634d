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

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use uuid::Uuid;

use crate::changes::{Change, Changes, UnitOfWork};
use crate::legal::Seller;
use crate::outbox::Envelope;
use crate::ports::{Clock, Mail, Members, Message, Random};
use crate::privacy::{Categories, DataCategory};
use crate::{MemberId, StoreError, Timestamp};

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

/// An incident's ID.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IncidentId(Uuid);

impl IncidentId {
    /// Wraps a UUID.
    pub const fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    /// The UUID.
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl fmt::Debug for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IncidentId({})", self.0)
    }
}

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Whom an incident concerns among the members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Concerned {
    /// These members (as far as they are known).
    Members(BTreeSet<MemberId>),
    /// Every member (the whole member table may have leaked).
    Everyone,
}

/// Which report to the Commission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The preliminary report (速報).
    Preliminary,
    /// The final report (確報).
    Final,
}

impl Stage {
    /// The stable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Preliminary => "preliminary",
            Self::Final => "final",
        }
    }

    /// The stage with this stable name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Preliminary, Self::Final]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// How far the notices to the members concerned have gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The administrator who approved them.
    pub approved_by: String,
    /// When.
    pub approved_at: Timestamp,
    /// The last member (in ID order) whose notice is in the outbox: the next batch starts
    /// after it.
    pub cursor: Option<MemberId>,
    /// How many notices are in the outbox.
    pub sent: u64,
    /// Whether every member concerned has been reached.
    pub done: bool,
}

/// A recorded incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    /// The ID.
    pub id: IncidentId,
    /// What the office knows.
    pub facts: IncidentFacts,
    /// The members concerned.
    pub concerned: Concerned,
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// The operator who recorded it.
    pub recorded_by: String,
    /// When the preliminary report was submitted.
    pub preliminary_reported_at: Option<Timestamp>,
    /// When the final report was submitted.
    pub final_reported_at: Option<Timestamp>,
    /// The members' notice, once approved.
    pub notice: Option<Notice>,
}

impl Incident {
    /// The deadline still open at `now` and how long is left, the earliest first: the
    /// preliminary report's (until it is submitted), then the final report's. `None` when
    /// nothing is due (not reportable, or both reports submitted).
    pub fn next_deadline(&self) -> Option<(Stage, Timestamp)> {
        let deadlines = self.facts.deadlines()?;
        if self.preliminary_reported_at.is_none() {
            Some((Stage::Preliminary, deadlines.preliminary_latest))
        } else if self.final_reported_at.is_none() {
            Some((Stage::Final, deadlines.final_report))
        } else {
            None
        }
    }
}

/// The longest cause an operator may write.
pub const MAX_CAUSE_CHARS: usize = 2_000;

/// What an operator records; checked by [`IncidentDesk::record`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentDraft {
    /// The facts.
    pub facts: IncidentFacts,
    /// The members concerned.
    pub concerned: Concerned,
}

/// Recording an incident failed.
#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    /// A fact is missing or impossible (named).
    #[error("the incident's {0} is missing or impossible")]
    Invalid(&'static str),
    /// No such incident.
    #[error("no such incident")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Incidents in storage.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Incidents: Send + Sync + 'static {
    /// Stores a new incident.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when its ID is known.
    async fn insert(&self, incident: &Incident) -> Result<(), StoreError>;

    /// Every incident, the most recently discovered first.
    ///
    /// # Errors
    /// When storage fails.
    async fn all(&self) -> Result<Vec<Incident>, StoreError>;

    /// The incident with this ID.
    ///
    /// # Errors
    /// When storage fails.
    async fn by_id(&self, id: IncidentId) -> Result<Option<Incident>, StoreError>;

    /// Records that the `stage` report was submitted at `at`; a second call keeps the first
    /// time. Answers the incident as it is now.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown incident.
    async fn mark_reported(
        &self,
        id: IncidentId,
        stage: Stage,
        at: Timestamp,
    ) -> Result<Incident, StoreError>;

    /// Approves the members' notice (by `by`, at `at`) unless it was approved already (the
    /// first approval stays). Answers the incident as it is now.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown incident.
    async fn approve_notice(
        &self,
        id: IncidentId,
        by: &str,
        at: Timestamp,
    ) -> Result<Incident, StoreError>;

    /// The IDs of the members who registered before `registered_before`, after `after`, in
    /// ID order, at most `limit` (whom an incident concerning everyone notifies: the members
    /// there were when it was recorded).
    ///
    /// # Errors
    /// When storage fails.
    async fn members_after(
        &self,
        after: Option<MemberId>,
        registered_before: Timestamp,
        limit: u32,
    ) -> Result<Vec<MemberId>, StoreError>;
}

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
    pub async fn record(&self, draft: IncidentDraft, by: &str) -> Result<Incident, IncidentError> {
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
            id: IncidentId(crate::membership::uuid_v7(
                now,
                &self.ports.random.bytes32(),
            )),
            facts,
            concerned: draft.concerned,
            recorded_at: now,
            recorded_by: by.to_owned(),
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
        by: &str,
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

/// The outbox ID of the notice of `incident` to `member`: the same for both, always, so the
/// outbox refuses a second one.
pub fn notice_id(incident: IncidentId, member: MemberId) -> Uuid {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(b"kikeru incident notice\0")
        .chain_update(incident.as_uuid().as_bytes())
        .chain_update(member.as_uuid().as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// What the members concerned are told.
pub fn notice_message(incident: &Incident) -> Message {
    Message::IncidentNotice {
        reference: incident.id.to_string(),
        discovered_at: incident.facts.discovered_at,
        categories: incident
            .facts
            .categories
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect(),
        credentials_or_payment: incident.facts.credentials_or_payment,
        malicious_suspected: incident.facts.malicious_suspected,
    }
}

/// A category as the report names it.
const fn category_ja(category: DataCategory) -> &'static str {
    match category {
        DataCategory::EmailAddress => "メールアドレス",
        DataCategory::DisplayName => "表示名",
        DataCategory::MemberId => "会員ID",
        DataCategory::PurchaseHistory => "購入履歴（品名・日時・価格）",
        DataCategory::PaymentHistory => "決済履歴（決済の状態）",
        DataCategory::OrderDetails => "注文内容（注文番号・金額・品名）",
        DataCategory::MessageContent => "メッセージ本文（お問い合わせ等）",
    }
}

const fn reason_ja(reason: ReportReason) -> &'static str {
    match reason {
        ReportReason::Sensitive => "要配慮個人情報が含まれる（施行規則第7条第1号）",
        ReportReason::FinancialHarm => {
            "不正に利用されることにより財産的被害が生じるおそれがある（施行規則第7条第2号）"
        }
        ReportReason::Malicious => "不正の目的をもって行われたおそれがある（施行規則第7条第3号）",
        ReportReason::ManyPeople => "本人の数が1,000人を超える（施行規則第7条第4号）",
    }
}

/// A count with thousands separated (`1,500`).
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A day and time in Japan, as the report writes it.
fn japan(at: Timestamp) -> String {
    let local = at.to_offset(time::macros::offset!(+9));
    format!(
        "{}年{}月{}日 {:02}時{:02}分",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute()
    )
}

/// The content of the report to the Personal Information Protection Commission (漏えい等報告),
/// in Japanese, from the record as it stands at `now`, issued by `seller`: each item of the
/// Commission's form with what the record says, and the items only the office can write
/// marked for it to fill in. The preliminary report (速報) until it was submitted, then the
/// final one (確報).
pub fn report(incident: &Incident, seller: &Seller, now: Timestamp) -> Vec<(&'static str, String)> {
    let facts = &incident.facts;
    let kind = if incident.preliminary_reported_at.is_none() {
        "速報"
    } else {
        "確報"
    };
    let reasons = facts.reasons();
    let reportable = if reasons.is_empty() {
        "報告対象の事態に該当しない（任意の報告）".to_owned()
    } else {
        reasons
            .iter()
            .map(|r| reason_ja(*r))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let count = grouped(facts.people);
    let people = if facts.people_estimated {
        format!("約{count}人（見込み）")
    } else {
        format!("{count}人")
    };
    let harm = if facts.credentials_or_payment {
        "あり：パスワード等の認証情報または決済に関する情報が含まれ、不正利用による財産的被害のおそれがある。"
    } else {
        "現時点で確認されていない。"
    };
    let notice = match &incident.notice {
        Some(n) if n.done => format!(
            "{}に通知を承認し、{}人に電子メールで通知した。",
            japan(n.approved_at),
            grouped(n.sent)
        ),
        Some(n) => format!(
            "{}に通知を承認し、{}人に電子メールで通知済み（送付中）。",
            japan(n.approved_at),
            grouped(n.sent)
        ),
        None => "未実施（通知の準備中）。".to_owned(),
    };
    let deadlines = facts.deadlines().map_or_else(
        || "―".to_owned(),
        |d| {
            format!(
                "速報：{}（目安）、遅くとも{}\n確報：{}",
                japan(d.preliminary_target),
                japan(d.preliminary_latest),
                japan(d.final_report)
            )
        },
    );
    let fill_in = "（事務局が記入してください）".to_owned();
    vec![
        ("報告の種類", kind.to_owned()),
        (
            "報告者",
            format!(
                "{}\n{}\n代表者：{}\n連絡先：{} / {}",
                seller.name, seller.address, seller.representative, seller.phone, seller.email
            ),
        ),
        ("発覚日時", japan(facts.discovered_at)),
        ("報告対象となる事態", reportable),
        (
            "漏えい等が発生し、又は発生したおそれがある個人データの項目",
            facts
                .categories
                .iter()
                .map(|c| category_ja(*c))
                .collect::<Vec<_>>()
                .join("、"),
        ),
        (
            "漏えい等が発生し、又は発生したおそれがある個人データに係る本人の数",
            people,
        ),
        ("原因", facts.cause.clone()),
        ("二次被害又はそのおそれの有無及びその内容", harm.to_owned()),
        ("本人への対応の実施状況", notice),
        ("公表の実施状況", fill_in.clone()),
        ("再発防止のための措置", fill_in.clone()),
        ("その他参考となる事項", fill_in),
        ("報告期限", deadlines),
        ("作成日時", japan(now)),
        ("事案番号", incident.id.to_string()),
    ]
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

    fn recorded(facts: IncidentFacts) -> Incident {
        Incident {
            id: IncidentId(Uuid::from_u128(7)),
            facts,
            concerned: Concerned::Everyone,
            recorded_at: datetime!(2026-11-26 11:00 UTC),
            recorded_by: "operator".to_owned(),
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
            approved_by: "admin".to_owned(),
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
