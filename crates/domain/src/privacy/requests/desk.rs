//! The request desk: taking requests under APPI from members and from anyone who proves an
//! address, moving them through their statuses, answering or refusing them by mail, and the
//! cessations that accepted requests put in force.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use super::{
    MAX_TEXT, PrivacyRequest, RefusalGround, RequestKind, RequestStatus, RequestStep, Stop,
    code_hash,
};
use crate::changes::{Change, Changes, UnitOfWork};
use crate::kernel::ids::uuid_v7;
use crate::kernel::ports::{Clock, Random, RateLimits};
use crate::kernel::throttle::{Throttled, count};
use crate::mail::message::{Mail, Message};
use crate::mail::outbox::{Envelope, MAIL_PROCESSOR, mail_categories};
use crate::membership::ports::Members;
use crate::office::operators::Operator;
use crate::privacy::not_entrusted;
use crate::privacy::ports::{PrivacyRequests, Processors};
use crate::{Email, Language, MemberId, StoreError, ThrottleRule, Timestamp};

/// How requests are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestPolicy {
    /// How long after verification an answer is due (the operators' target for "遅滞なく";
    /// default 14 days).
    pub due: Duration,
    /// How long a mailed code works (24 hours).
    pub code_lifetime: Duration,
    /// Wrong codes allowed before the code stops working (5).
    pub code_attempts: u32,
    /// Requests per client (5 an hour).
    pub per_client: ThrottleRule,
    /// Requests per address (5 an hour).
    pub per_address: ThrottleRule,
}

impl Default for RequestPolicy {
    fn default() -> Self {
        let hourly = ThrottleRule {
            max: 5,
            window: Duration::from_secs(3600),
        };
        Self {
            due: Duration::from_secs(14 * 86_400),
            code_lifetime: Duration::from_secs(86_400),
            code_attempts: 5,
            per_client: hourly,
            per_address: hourly,
        }
    }
}

/// What a requester sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestForm {
    /// What is asked for.
    pub kind: RequestKind,
    /// The requester's words.
    pub details: String,
    /// The language to answer in.
    pub language: Language,
}

/// A request was not taken or not moved.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The text is too long or holds a NUL character.
    #[error("the text must have at most {MAX_TEXT} characters and no NUL")]
    Invalid,
    /// A correction or cessation of nothing: the words say what (or the scope names it).
    #[error("say what the request is about")]
    Empty,
    /// Too many requests from this client or address.
    #[error(transparent)]
    Throttled(#[from] Throttled),
    /// No such request (or not this requester's).
    #[error("there is no such request")]
    NotFound,
    /// The code is wrong, used, or expired.
    #[error("the code is wrong or no longer valid")]
    WrongCode,
    /// The request cannot move that way from where it stands (e.g. answering an unverified
    /// one, or one already answered).
    #[error("the request is {0} and cannot be changed that way")]
    WrongStatus(&'static str),
    /// Only administrators answer requests.
    #[error("only an administrator may do this")]
    NotAdministrator,
    /// The register does not entrust the mail provider with what the mail holds.
    #[error("the mail provider is not entrusted with {0}")]
    NotEntrusted(&'static str),
    /// Someone else changed the request first; read it again.
    #[error("the request was changed meanwhile")]
    Changed,
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for RequestError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Self::Changed,
            StoreError::NotFound => Self::NotFound,
            e => Self::Store(e),
        }
    }
}

/// The adapters the desk runs on.
#[derive(Clone)]
pub struct RequestPorts {
    /// Stored requests and cessations.
    pub requests: Arc<dyn PrivacyRequests>,
    /// Members (to link a proven address to its account).
    pub members: Arc<dyn Members>,
    /// Atomic writes (a request with its mail).
    pub unit: Arc<dyn UnitOfWork>,
    /// Shared rate-limit counters.
    pub rate_limits: Arc<dyn RateLimits>,
    /// The register of entrusted processors.
    pub processors: Arc<dyn Processors>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub random: Arc<dyn Random>,
}

impl fmt::Debug for RequestPorts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RequestPorts { .. }")
    }
}

/// The request use cases.
#[derive(Debug, Clone)]
pub struct RequestDesk {
    ports: RequestPorts,
    policy: RequestPolicy,
}

impl RequestDesk {
    /// The use cases on their adapters.
    pub fn new(ports: RequestPorts, policy: RequestPolicy) -> Self {
        Self { ports, policy }
    }

    /// The time now, by the desk's clock (for countdowns to due dates).
    pub fn now(&self) -> Timestamp {
        self.ports.clock.now()
    }

    /// The request with this number (its requester's status page).
    ///
    /// # Errors
    /// When storage fails.
    pub async fn by_number(&self, number: &str) -> Result<Option<PrivacyRequest>, StoreError> {
        self.ports.requests.request_numbered(number).await
    }

    /// The policy in force.
    pub fn policy(&self) -> &RequestPolicy {
        &self.policy
    }

    /// Takes a request from someone not signed in (a former member, an inquirer, anyone) and
    /// mails a code to `email`: the request waits until the code proves the address.
    /// Answers the request's number.
    ///
    /// # Errors
    /// [`RequestError::Invalid`], [`RequestError::Empty`], [`RequestError::Throttled`] (by
    /// client, then by address), [`RequestError::NotEntrusted`].
    pub async fn submit_public(
        &self,
        email: Email,
        form: RequestForm,
        client_key: &str,
    ) -> Result<String, RequestError> {
        let details = check(&form)?;
        self.throttle("request", client_key, self.policy.per_client)
            .await?;
        self.throttle("request-address", email.as_str(), self.policy.per_address)
            .await?;
        self.check_mail_entrusted().await?;
        let now = self.ports.clock.now();
        let code = self.new_code();
        let mut request = self.new_request(email, None, form, details, now);
        request.code_hash = Some(code_hash(&code));
        request.code_expires_at = Some(now + self.policy.code_lifetime);
        let number = request.number.clone();
        let mail = Mail {
            to: request.email.clone(),
            language: request.language,
            message: Message::RequestCode {
                number: number.clone(),
                code,
            },
        };
        let mut changes = Changes::new();
        changes.push(Change::PutRequest(request));
        changes.push(self.envelope(None, mail, now));
        self.ports.unit.apply(changes).await?;
        Ok(number)
    }

    /// Takes a signed-in member's request: they are who they are, so it is verified at once
    /// and its due date set; the acceptance with the due date is mailed.
    ///
    /// # Errors
    /// [`RequestError::Invalid`], [`RequestError::Empty`], [`RequestError::Throttled`] (5 an
    /// hour per member), [`RequestError::NotEntrusted`].
    pub async fn submit_member(
        &self,
        member: &crate::Member,
        form: RequestForm,
    ) -> Result<PrivacyRequest, RequestError> {
        let details = check(&form)?;
        self.throttle(
            "request-member",
            &member.id.to_string(),
            self.policy.per_address,
        )
        .await?;
        self.check_mail_entrusted().await?;
        let now = self.ports.clock.now();
        let mut request =
            self.new_request(member.email.clone(), Some(member.id), form, details, now);
        self.verified(&mut request, now);
        // Stored for the first time: received and verified in one write.
        request.version = 1;
        let mail = self.accepted_mail(&request);
        let mut changes = Changes::new();
        changes.push(Change::PutRequest(request.clone()));
        changes.push(self.envelope(Some(member.id), mail, now));
        self.ports.unit.apply(changes).await?;
        Ok(request)
    }

    /// Proves the address of request `number` with the mailed `code`: the request is verified,
    /// linked to the member who has that address (if any), its due date set, and the
    /// acceptance mailed. Too many wrong codes end the code.
    ///
    /// # Errors
    /// [`RequestError::NotFound`], [`RequestError::WrongCode`].
    pub async fn verify(&self, number: &str, code: &str) -> Result<PrivacyRequest, RequestError> {
        let now = self.ports.clock.now();
        let mut request = self
            .ports
            .requests
            .request_numbered(number.trim())
            .await?
            .ok_or(RequestError::WrongCode)?;
        if request.status != RequestStatus::Received {
            return Err(RequestError::WrongCode);
        }
        if !request.code_matches(code, now) {
            request.code_failures += 1;
            if request.code_failures >= self.policy.code_attempts {
                request.code_hash = None;
            }
            request.version += 1;
            self.ports
                .unit
                .apply(vec![Change::PutRequest(request)].into())
                .await?;
            return Err(RequestError::WrongCode);
        }
        request.member = self
            .ports
            .members
            .by_email(&request.email)
            .await?
            .map(|m| m.id);
        self.verified(&mut request, now);
        request.code_hash = None;
        request.code_expires_at = None;
        let mail = self.accepted_mail(&request);
        let mut changes = Changes::new();
        changes.push(Change::PutRequest(request.clone()));
        changes.push(self.envelope(request.member, mail, now));
        self.ports.unit.apply(changes).await?;
        Ok(request)
    }

    /// Requests newest first (operators), only open ones when `open_only`.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn list(&self, open_only: bool) -> Result<Vec<PrivacyRequest>, StoreError> {
        self.ports.requests.requests(open_only, 500).await
    }

    /// The request with this ID (operators).
    ///
    /// # Errors
    /// When storage fails.
    pub async fn get(&self, id: Uuid) -> Result<Option<PrivacyRequest>, StoreError> {
        self.ports.requests.request(id).await
    }

    /// The member's requests, oldest first.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn of_member(&self, member: MemberId) -> Result<Vec<PrivacyRequest>, StoreError> {
        self.ports.requests.requests_of(member).await
    }

    /// The member's cessations in force.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn stops_of(&self, member: MemberId) -> Result<Vec<Stop>, StoreError> {
        self.ports.requests.stops_of(member).await
    }

    /// An operator starts work on a verified request.
    ///
    /// # Errors
    /// [`RequestError::NotFound`], [`RequestError::WrongStatus`] unless it is verified,
    /// [`RequestError::Changed`].
    pub async fn start(&self, by: &Operator, id: Uuid) -> Result<PrivacyRequest, RequestError> {
        let now = self.ports.clock.now();
        let mut request = self.open(id).await?;
        if request.status != RequestStatus::Verified {
            return Err(RequestError::WrongStatus(request.status.as_str()));
        }
        step(&mut request, RequestStatus::InProgress, Some(by), now);
        self.ports
            .unit
            .apply(vec![Change::PutRequest(request.clone())].into())
            .await?;
        Ok(request)
    }

    /// An administrator answers a verified request by mail. Answering a cessation for a
    /// member puts the cessation in force with the answer, in the same write: from then on the
    /// disclosure engine refuses what it covers.
    ///
    /// # Errors
    /// [`RequestError::NotAdministrator`], [`RequestError::Invalid`], [`RequestError::Empty`],
    /// [`RequestError::WrongStatus`] before verification or once done,
    /// [`RequestError::Changed`].
    pub async fn answer(
        &self,
        by: &Operator,
        id: Uuid,
        text: &str,
    ) -> Result<PrivacyRequest, RequestError> {
        let (mut request, text, now) = self.to_conclude(by, id, text).await?;
        request.answer = Some(text.clone());
        step(&mut request, RequestStatus::Answered, Some(by), now);
        let mut changes = Changes::new();
        if let (RequestKind::Cessation { scope }, Some(member)) = (&request.kind, request.member) {
            changes.push(Change::InsertStop(Stop {
                id: uuid_v7(now, &self.ports.random.bytes32()),
                member,
                scope: scope.clone(),
                request: Some(request.id),
                from: now,
            }));
        }
        let mail = Mail {
            to: request.email.clone(),
            language: request.language,
            message: Message::RequestAnswered {
                number: request.number.clone(),
                what: request.kind.as_str().to_owned(),
                answer: text,
            },
        };
        changes.push(Change::PutRequest(request.clone()));
        changes.push(self.envelope(request.member, mail, now));
        self.ports.unit.apply(changes).await?;
        Ok(request)
    }

    /// An administrator refuses a verified request, with the ground and the reasons, by mail
    /// (第33条3項: the person is told, and why).
    ///
    /// # Errors
    /// As [`RequestDesk::answer`].
    pub async fn refuse(
        &self,
        by: &Operator,
        id: Uuid,
        ground: RefusalGround,
        reasons: &str,
    ) -> Result<PrivacyRequest, RequestError> {
        let (mut request, text, now) = self.to_conclude(by, id, reasons).await?;
        request.answer = Some(text.clone());
        request.refusal = Some(ground);
        step(&mut request, RequestStatus::Refused, Some(by), now);
        let mail = Mail {
            to: request.email.clone(),
            language: request.language,
            message: Message::RequestRefused {
                number: request.number.clone(),
                what: request.kind.as_str().to_owned(),
                ground: ground.as_str().to_owned(),
                answer: text,
            },
        };
        let mut changes = Changes::new();
        changes.push(Change::PutRequest(request.clone()));
        changes.push(self.envelope(request.member, mail, now));
        self.ports.unit.apply(changes).await?;
        Ok(request)
    }

    /// Ends one of the member's cessations at their wish (they may start again what they
    /// stopped).
    ///
    /// # Errors
    /// [`RequestError::NotFound`] when the member has no such cessation.
    pub async fn lift_stop(&self, member: MemberId, id: Uuid) -> Result<(), RequestError> {
        self.ports
            .unit
            .apply(vec![Change::LiftStop { member, id }].into())
            .await?;
        Ok(())
    }

    async fn to_conclude(
        &self,
        by: &Operator,
        id: Uuid,
        text: &str,
    ) -> Result<(PrivacyRequest, String, Timestamp), RequestError> {
        if by.role < crate::office::operators::Role::Admin {
            return Err(RequestError::NotAdministrator);
        }
        let text = text.trim().to_owned();
        if text.chars().count() > MAX_TEXT || text.contains('\0') {
            return Err(RequestError::Invalid);
        }
        if text.is_empty() {
            return Err(RequestError::Empty);
        }
        let request = self.open(id).await?;
        if !matches!(
            request.status,
            RequestStatus::Verified | RequestStatus::InProgress
        ) {
            return Err(RequestError::WrongStatus(request.status.as_str()));
        }
        self.check_mail_entrusted().await?;
        Ok((request, text, self.ports.clock.now()))
    }

    async fn open(&self, id: Uuid) -> Result<PrivacyRequest, RequestError> {
        self.ports
            .requests
            .request(id)
            .await?
            .ok_or(RequestError::NotFound)
    }

    fn new_request(
        &self,
        email: Email,
        member: Option<MemberId>,
        form: RequestForm,
        details: String,
        now: Timestamp,
    ) -> PrivacyRequest {
        PrivacyRequest {
            id: uuid_v7(now, &self.ports.random.bytes32()),
            number: self.new_number(),
            email,
            member,
            language: form.language,
            kind: form.kind,
            details,
            status: RequestStatus::Received,
            received_at: now,
            verified_at: None,
            due_at: None,
            answer: None,
            refusal: None,
            code_hash: None,
            code_expires_at: None,
            code_failures: 0,
            history: vec![RequestStep {
                at: now,
                status: RequestStatus::Received,
                by: None,
            }],
            version: 1,
        }
    }

    fn verified(&self, request: &mut PrivacyRequest, now: Timestamp) {
        request.verified_at = Some(now);
        request.due_at = Some(now + self.policy.due);
        step(request, RequestStatus::Verified, None, now);
    }

    fn accepted_mail(&self, request: &PrivacyRequest) -> Mail {
        Mail {
            to: request.email.clone(),
            language: request.language,
            message: Message::RequestAccepted {
                number: request.number.clone(),
                what: request.kind.as_str().to_owned(),
                due_at: request.due_at.unwrap_or(request.received_at),
            },
        }
    }

    fn envelope(&self, member: Option<MemberId>, mail: Mail, now: Timestamp) -> Change {
        Change::Send(Envelope {
            id: uuid_v7(now, &self.ports.random.bytes32()),
            member_id: member,
            mail,
            created_at: now,
        })
    }

    async fn check_mail_entrusted(&self) -> Result<(), RequestError> {
        let register = self.ports.processors.all().await?;
        match not_entrusted(&register, MAIL_PROCESSOR, &mail_categories()) {
            Some(c) => Err(RequestError::NotEntrusted(c.as_str())),
            None => Ok(()),
        }
    }

    async fn throttle(
        &self,
        scope: &str,
        value: &str,
        rule: ThrottleRule,
    ) -> Result<(), RequestError> {
        let now = self.ports.clock.now();
        match count(&*self.ports.rate_limits, now, scope, value, rule).await? {
            Some(throttled) => Err(throttled.into()),
            None => Ok(()),
        }
    }

    /// `R-` and 8 characters of Crockford-like base32: 40 random bits.
    fn new_number(&self) -> String {
        format!("R-{}", base32(&self.ports.random.bytes32(), 8))
    }

    /// A code of 8 characters shown as two groups (`ABCD-2345`): 40 random bits.
    fn new_code(&self) -> String {
        let text = base32(&self.ports.random.bytes32(), 8);
        format!("{}-{}", &text[..4], &text[4..])
    }
}

fn base32(bytes: &[u8; 32], length: usize) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut bits = u64::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], 0, 0, 0]);
    let mut text = String::with_capacity(length);
    for _ in 0..length {
        text.push(char::from(ALPHABET[(bits & 31) as usize]));
        bits >>= 5;
    }
    text
}

fn step(request: &mut PrivacyRequest, status: RequestStatus, by: Option<&Operator>, at: Timestamp) {
    request.status = status;
    request.history.push(RequestStep {
        at,
        status,
        by: by.map(|o| o.id),
    });
    request.version += 1;
}

/// The requester's words, trimmed, once they are acceptable.
fn check(form: &RequestForm) -> Result<String, RequestError> {
    let details = form.details.trim().to_owned();
    if details.chars().count() > MAX_TEXT || details.contains('\0') {
        return Err(RequestError::Invalid);
    }
    if let RequestKind::Cessation { scope } = &form.kind {
        let (_, key) = scope.parts();
        if key.chars().count() > 100 || key.contains('\0') {
            return Err(RequestError::Invalid);
        }
    }
    if details.is_empty() && matches!(form.kind, RequestKind::Correction) {
        return Err(RequestError::Empty);
    }
    Ok(details)
}
