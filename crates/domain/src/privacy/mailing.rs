//! Mail for a purpose beyond the service (a newsletter, a partner's offers): sent only to the
//! members whose consent covers the purpose's current notice, and never to a member who asked
//! for that use to stop (APPI 第35条) — the mailer skips them in code, not on paper.

use std::fmt;
use std::sync::Arc;

use uuid::Uuid;

use crate::changes::{Change, Changes, UnitOfWork};
use crate::kernel::ids::uuid_v7;
use crate::kernel::ports::{Clock, Random};
use crate::mail::message::{Mail, Message};
use crate::mail::outbox::{Envelope, MAIL_PROCESSOR, mail_categories};
use crate::membership::ports::Members;
use crate::office::operators::{Operator, Role};
use crate::privacy::ports::{Consents, PrivacyRequests, Processors};
use crate::privacy::requests::{Stop, StopScope};
use crate::privacy::{Purpose, consent_at, not_entrusted};
use crate::{Language, StoreError, Timestamp};

/// Members read per batch.
pub const BATCH: u32 = 200;

/// The longest subject and text, in characters.
pub const MAX_SUBJECT: usize = 200;
/// The longest text, in characters.
pub const MAX_BODY: usize = 10_000;

/// What a mailing says, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    /// The subject in Japanese.
    pub subject_ja: String,
    /// The text in Japanese.
    pub body_ja: String,
    /// The subject in English.
    pub subject_en: String,
    /// The text in English.
    pub body_en: String,
}

/// What a mailing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sent {
    /// Mails put in the outbox.
    pub sent: u64,
    /// Members whose consent did not cover the current notice (withdrawn, or given to an
    /// older one).
    pub not_consenting: u64,
    /// Members who asked for this use to stop.
    pub stopped: u64,
}

/// A mailing was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailingError {
    /// Only an administrator sends.
    #[error("only an administrator may send mail for a purpose")]
    NotAdministrator,
    /// No purpose has this key.
    #[error("there is no such purpose")]
    UnknownPurpose,
    /// A subject or text is empty, too long, or holds a NUL.
    #[error("each subject needs 1 to {MAX_SUBJECT} characters and each text 1 to {MAX_BODY}")]
    Invalid,
    /// The register does not entrust the mail provider with what the mail holds.
    #[error("the mail provider is not entrusted with {0}")]
    NotEntrusted(&'static str),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The adapters the mailer for purposes runs on.
#[derive(Clone)]
pub struct MailingPorts {
    /// Purposes and consent histories.
    pub consents: Arc<dyn Consents>,
    /// Cessations in force.
    pub requests: Arc<dyn PrivacyRequests>,
    /// Members.
    pub members: Arc<dyn Members>,
    /// The register of processors.
    pub processors: Arc<dyn Processors>,
    /// Atomic writes.
    pub unit: Arc<dyn UnitOfWork>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub random: Arc<dyn Random>,
}

impl fmt::Debug for MailingPorts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MailingPorts { .. }")
    }
}

/// The mailer for purposes.
#[derive(Debug, Clone)]
pub struct PurposeMailer {
    ports: MailingPorts,
}

/// Whether `stops` forbid using the member's data for `purpose`: a stop of the purpose itself,
/// or — for a purpose that provides data to a recipient — a stop of that provision.
pub fn use_stopped(stops: &[Stop], purpose: &Purpose, at: Timestamp) -> bool {
    stops
        .iter()
        .filter(|s| s.from <= at)
        .any(|s| match &s.scope {
            StopScope::Purpose(key) => *key == purpose.key,
            scope => purpose
                .recipient
                .as_deref()
                .is_some_and(|recipient| scope.covers(&purpose.key, recipient)),
        })
}

fn acceptable(subject: &str, body: &str) -> bool {
    let fits = |text: &str, most: usize| {
        let n = text.trim().chars().count();
        (1..=most).contains(&n) && !text.contains('\0')
    };
    fits(subject, MAX_SUBJECT) && fits(body, MAX_BODY)
}

impl PurposeMailer {
    /// The mailer on its adapters.
    pub fn new(ports: MailingPorts) -> Self {
        Self { ports }
    }

    /// Mails `letter` for `purpose` to every member whose consent covers its current notice,
    /// in their language, skipping those who asked for the use to stop. One write per batch;
    /// answers the counts.
    ///
    /// # Errors
    /// [`MailingError`].
    pub async fn send(
        &self,
        by: &Operator,
        purpose: &str,
        letter: &Letter,
    ) -> Result<Sent, MailingError> {
        if by.role < Role::Admin {
            return Err(MailingError::NotAdministrator);
        }
        if !acceptable(&letter.subject_ja, &letter.body_ja)
            || !acceptable(&letter.subject_en, &letter.body_en)
        {
            return Err(MailingError::Invalid);
        }
        let purpose = self
            .ports
            .consents
            .purposes()
            .await?
            .into_iter()
            .find(|p| p.key == purpose)
            .ok_or(MailingError::UnknownPurpose)?;
        let register = self.ports.processors.all().await?;
        if let Some(c) = not_entrusted(&register, MAIL_PROCESSOR, &mail_categories()) {
            return Err(MailingError::NotEntrusted(c.as_str()));
        }
        let mut done = Sent::default();
        let mut cursor = None;
        loop {
            let batch = self
                .ports
                .consents
                .consenters(&purpose.key, cursor, BATCH)
                .await?;
            let now = self.ports.clock.now();
            let mut changes = Changes::new();
            for id in &batch {
                let history = self.ports.consents.history(*id).await?;
                let covered = consent_at(&history, *id, &purpose.key, now)
                    .is_some_and(|r| r.granted && r.notice_version == purpose.notice_version);
                if !covered {
                    done.not_consenting += 1;
                    continue;
                }
                if use_stopped(&self.ports.requests.stops_of(*id).await?, &purpose, now) {
                    done.stopped += 1;
                    continue;
                }
                let Some(member) = self.ports.members.by_id(*id).await? else {
                    continue;
                };
                let (subject, body) = match member.language {
                    Language::Ja => (&letter.subject_ja, &letter.body_ja),
                    Language::En => (&letter.subject_en, &letter.body_en),
                };
                changes.push(Change::Send(Envelope {
                    id: self.new_id(now),
                    member_id: Some(member.id),
                    mail: Mail {
                        to: member.email.clone(),
                        language: member.language,
                        message: Message::PurposeMail {
                            purpose: purpose.title.get(member.language).to_owned(),
                            subject: subject.trim().to_owned(),
                            body: body.trim().to_owned(),
                        },
                    },
                    created_at: now,
                }));
                done.sent += 1;
            }
            if !changes.is_empty() {
                self.ports.unit.apply(changes).await?;
            }
            if batch.len() < BATCH as usize {
                return Ok(done);
            }
            cursor = batch.last().copied();
        }
    }

    fn new_id(&self, now: Timestamp) -> Uuid {
        uuid_v7(now, &self.ports.random.bytes32())
    }
}
