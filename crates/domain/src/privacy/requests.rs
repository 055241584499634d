//! Requests under APPI 第33–35条, as a tracked procedure: disclosure of what is held (開示), of
//! the records of provision to third parties (第33条5項), correction (訂正), and cessation of
//! use or of provision to third parties (利用停止・第三者提供の停止). Each request gets a number,
//! an identity check (a signed-in member is known; anyone else proves the address with a mailed
//! code), a due date the operators set ("遅滞なく", default 14 days), statuses, and an answer
//! by mail. An accepted cessation becomes a [`Stop`] that the disclosure engine obeys.
//!
//! The use cases are in [`desk`].

pub mod desk;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::office::operators::OperatorId;
use crate::{Email, Language, MemberId, Timestamp};

/// The longest text of a request or an answer, in characters.
pub const MAX_TEXT: usize = 10_000;

/// What is asked for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RequestKind {
    /// Disclosure of the personal data held (第33条1項), in the form chosen.
    Disclosure {
        /// How the answer gives it.
        form: DisclosureForm,
    },
    /// Disclosure of the records of provision to third parties (第33条5項).
    ProvisionRecords,
    /// Correction, addition or deletion of data that is wrong (第34条).
    Correction,
    /// Cessation of use, or of provision to third parties (第35条).
    Cessation {
        /// What to stop.
        scope: StopScope,
    },
}

impl RequestKind {
    /// The stable name (`disclosure`, `provision_records`, `correction`, `cessation`).
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Disclosure { .. } => "disclosure",
            Self::ProvisionRecords => "provision_records",
            Self::Correction => "correction",
            Self::Cessation { .. } => "cessation",
        }
    }
}

/// The form a disclosure is given in (第33条1項: the one the person asks for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisclosureForm {
    /// The data export, as JSON.
    Json,
    /// A readable document (HTML, printable).
    Document,
}

/// What a cessation stops.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "stop", content = "key", rename_all = "snake_case")]
pub enum StopScope {
    /// Every provision to third parties on the basis of consent.
    AllProvision,
    /// Provision to this partner (by key).
    Partner(String),
    /// Use for this purpose (by key), and any provision it makes.
    Purpose(String),
}

impl StopScope {
    /// Whether a consent-based provision for `purpose` to `recipient` is stopped by this.
    pub fn covers(&self, purpose: &str, recipient: &str) -> bool {
        match self {
            Self::AllProvision => true,
            Self::Partner(key) => key == recipient,
            Self::Purpose(key) => key == purpose,
        }
    }

    /// The stable name of its kind (`all_provision`, `partner`, `purpose`) and its key.
    pub fn parts(&self) -> (&'static str, &str) {
        match self {
            Self::AllProvision => ("all_provision", ""),
            Self::Partner(key) => ("partner", key),
            Self::Purpose(key) => ("purpose", key),
        }
    }
}

/// Where a request stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Received; the requester has not yet proven the address.
    Received,
    /// The requester is who they say: the clock runs to the due date.
    Verified,
    /// An operator is working on it.
    InProgress,
    /// Answered (done).
    Answered,
    /// Refused, with the ground of 第33条2項 and reasons (done).
    Refused,
}

impl RequestStatus {
    /// Every status, in order.
    pub const ALL: [Self; 5] = [
        Self::Received,
        Self::Verified,
        Self::InProgress,
        Self::Answered,
        Self::Refused,
    ];

    /// The stable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Verified => "verified",
            Self::InProgress => "in_progress",
            Self::Answered => "answered",
            Self::Refused => "refused",
        }
    }

    /// Whether the request is finished.
    pub const fn is_done(self) -> bool {
        matches!(self, Self::Answered | Self::Refused)
    }
}

/// The grounds on which a disclosure may be refused in whole or part (第33条2項各号).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalGround {
    /// 一号: it may harm the life, body, property or other rights of the person or a third
    /// party.
    Harm,
    /// 二号: it may seriously hinder the proper conduct of the business.
    Disruption,
    /// 三号: it would break another law.
    OtherLaw,
    /// The request itself cannot be met (no such data, identity not established, not the
    /// person's data) — not a refusal under 第33条2項, but an answer that says why.
    NotApplicable,
}

impl RefusalGround {
    /// Every ground.
    pub const ALL: [Self; 4] = [
        Self::Harm,
        Self::Disruption,
        Self::OtherLaw,
        Self::NotApplicable,
    ];

    /// The stable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Harm => "harm",
            Self::Disruption => "disruption",
            Self::OtherLaw => "other_law",
            Self::NotApplicable => "not_applicable",
        }
    }

    /// The ground with this stable name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == name)
    }
}

/// One step of a request's history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RequestStep {
    /// When.
    #[serde(with = "time::serde::timestamp::milliseconds_i64")]
    pub at: Timestamp,
    /// The status it reached.
    pub status: RequestStatus,
    /// The operator who moved it (none for the requester's own steps).
    pub by: Option<OperatorId>,
}

/// A request, with everything that happened to it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PrivacyRequest {
    /// Its ID.
    pub id: Uuid,
    /// The number the requester and the operators use (`R-` and 8 characters).
    pub number: String,
    /// Where answers go (the member's address when a member asked).
    pub email: Email,
    /// The member it concerns: the signed-in member who asked, or the member whose address the
    /// requester proved.
    pub member: Option<MemberId>,
    /// The language to answer in.
    pub language: Language,
    /// What is asked for.
    pub kind: RequestKind,
    /// The requester's own words (which data, what is wrong, why).
    pub details: String,
    /// Where it stands.
    pub status: RequestStatus,
    /// When it arrived.
    #[serde(with = "time::serde::timestamp::milliseconds_i64")]
    pub received_at: Timestamp,
    /// When the requester was verified (the clock starts).
    #[serde(with = "time::serde::timestamp::milliseconds_i64::option")]
    pub verified_at: Option<Timestamp>,
    /// When the answer is due.
    #[serde(with = "time::serde::timestamp::milliseconds_i64::option")]
    pub due_at: Option<Timestamp>,
    /// The answer (or the reasons of a refusal), once given.
    pub answer: Option<String>,
    /// The ground of a refusal.
    pub refusal: Option<RefusalGround>,
    /// The SHA-256 of the code mailed to prove the address, until it is used.
    pub code_hash: Option<[u8; 32]>,
    /// Until when the code works.
    #[serde(with = "time::serde::timestamp::milliseconds_i64::option")]
    pub code_expires_at: Option<Timestamp>,
    /// Wrong codes tried so far.
    pub code_failures: u32,
    /// Every step, oldest first.
    pub history: Vec<RequestStep>,
    /// Bumped by every change; a change is stored only over the version it was made from.
    pub version: u32,
}

impl PrivacyRequest {
    /// The time left until the due date at `now` (negative when overdue); `None` before the
    /// clock starts or once done.
    pub fn time_left(&self, now: Timestamp) -> Option<time::Duration> {
        if self.status.is_done() {
            return None;
        }
        self.due_at.map(|due| due - now)
    }

    /// Whether `code` is the one mailed, still valid at `now`.
    pub fn code_matches(&self, code: &str, now: Timestamp) -> bool {
        let (Some(hash), Some(until)) = (self.code_hash, self.code_expires_at) else {
            return false;
        };
        let given = code_hash(code);
        let same = hash
            .iter()
            .zip(given.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
        same && now < until
    }
}

/// The hash a code is kept under (codes are normalised: spaces and hyphens dropped, upper case).
pub fn code_hash(code: &str) -> [u8; 32] {
    let normal: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect();
    Sha256::digest(normal.as_bytes()).into()
}

/// A cessation in force: the disclosure engine refuses every consent-based provision it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    /// Its ID.
    pub id: Uuid,
    /// Whose data.
    pub member: MemberId,
    /// What it stops.
    pub scope: StopScope,
    /// The request that asked for it.
    pub request: Option<Uuid>,
    /// From when.
    pub from: Timestamp,
}

/// Whether `stops` forbid a consent-based provision of `member`'s data for `purpose` to
/// `recipient` at `at`.
pub fn stopped(
    stops: &[Stop],
    member: MemberId,
    purpose: &str,
    recipient: &str,
    at: Timestamp,
) -> bool {
    stops
        .iter()
        .any(|s| s.member == member && s.from <= at && s.scope.covers(purpose, recipient))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stop(scope: StopScope) -> Stop {
        Stop {
            id: Uuid::nil(),
            member: MemberId::from_uuid(Uuid::from_u128(1)),
            scope,
            request: None,
            from: time::macros::datetime!(2026-12-01 00:00 UTC),
        }
    }

    #[test]
    fn a_stop_covers_its_partner_its_purpose_or_every_provision_and_only_from_its_day() {
        let member = MemberId::from_uuid(Uuid::from_u128(1));
        let other = MemberId::from_uuid(Uuid::from_u128(2));
        let at = time::macros::datetime!(2026-12-02 00:00 UTC);
        let before = time::macros::datetime!(2026-11-30 00:00 UTC);
        let partner = [stop(StopScope::Partner("label".into()))];
        assert!(stopped(&partner, member, "offers", "label", at));
        assert!(!stopped(&partner, member, "offers", "other-label", at));
        assert!(!stopped(&partner, other, "offers", "label", at));
        assert!(!stopped(&partner, member, "offers", "label", before));
        let purpose = [stop(StopScope::Purpose("offers".into()))];
        assert!(stopped(&purpose, member, "offers", "anyone", at));
        assert!(!stopped(&purpose, member, "news", "label", at));
        assert!(stopped(
            &[stop(StopScope::AllProvision)],
            member,
            "news",
            "x",
            at
        ));
    }

    #[test]
    fn a_code_matches_once_normalised_and_only_until_it_expires() {
        let now = time::macros::datetime!(2026-12-02 00:00 UTC);
        let request = PrivacyRequest {
            id: Uuid::nil(),
            number: "R-1".into(),
            email: Email::parse("a@example.jp").unwrap(),
            member: None,
            language: Language::Ja,
            kind: RequestKind::ProvisionRecords,
            details: String::new(),
            status: RequestStatus::Received,
            received_at: now,
            verified_at: None,
            due_at: None,
            answer: None,
            refusal: None,
            code_hash: Some(code_hash("ABCD-2345")),
            code_expires_at: Some(now + time::Duration::hours(1)),
            code_failures: 0,
            history: Vec::new(),
            version: 1,
        };
        assert!(request.code_matches("abcd 2345", now));
        assert!(!request.code_matches("ABCD-2346", now));
        assert!(!request.code_matches("ABCD-2345", now + time::Duration::hours(1)));
        let json = serde_json::to_string(&request).unwrap();
        assert_eq!(
            serde_json::from_str::<PrivacyRequest>(&json).unwrap(),
            request
        );
    }
}
