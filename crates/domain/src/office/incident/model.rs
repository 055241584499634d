//! Incidents as the law sees them (pure): the facts, whether they must be reported and by when,
//! the stages of the response, the notice to members and the Commission's report.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use uuid::Uuid;

use crate::mail::message::Message;
use crate::office::operators::OperatorId;
use crate::privacy::{Categories, DataCategory};
use crate::shop::legal::Seller;
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
pub struct IncidentId(pub(super) Uuid);

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
    pub approved_by: OperatorId,
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
    pub recorded_by: OperatorId,
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

/// What an operator records; checked by [`IncidentDesk::record`](crate::office::incident::IncidentDesk::record).
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
