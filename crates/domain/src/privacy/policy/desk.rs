//! The policy desk: publishing a version of the privacy policy and telling every member.

use std::fmt;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use time::Date;
use uuid::Uuid;

use super::{FIRST, MAX_CHANGES, NOTICE_BATCH, PolicyVersion, PolicyVersions};
use crate::changes::{Change, Changes, UnitOfWork};
use crate::kernel::ports::Clock;
use crate::mail::message::{Mail, Message};
use crate::mail::outbox::Envelope;
use crate::membership::ports::Members;
use crate::office::incident::ports::Incidents;
use crate::office::operators::{Operator, Role};
use crate::{MemberId, StoreError};

/// A version was not published or its notice not sent.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// Only an administrator publishes.
    #[error("only an administrator may publish a new version of the policy")]
    NotAdministrator,
    /// The number is not the next one.
    #[error("the next version is number {0}")]
    NotNext(u32),
    /// The description of the changes is empty, too long or holds a NUL.
    #[error("say what changed, in both languages, in at most {MAX_CHANGES} characters each")]
    Changes,
    /// The version takes effect before it is published.
    #[error("a new version cannot take effect before today")]
    Backdated,
    /// No version has this number.
    #[error("there is no such version")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The adapters the policy desk runs on.
#[derive(Clone)]
pub struct PolicyPorts {
    /// Published versions.
    pub versions: Arc<dyn PolicyVersions>,
    /// The members to tell (in ID order, as registered before a moment).
    pub incidents: Arc<dyn Incidents>,
    /// Members.
    pub members: Arc<dyn Members>,
    /// Atomic writes.
    pub unit: Arc<dyn UnitOfWork>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

impl fmt::Debug for PolicyPorts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PolicyPorts { .. }")
    }
}

/// The policy-version use cases.
#[derive(Debug, Clone)]
pub struct PolicyDesk {
    ports: PolicyPorts,
}

/// The ID of the notice of `number` to `member`: the same every time, so a second run of a
/// batch conflicts instead of mailing twice.
fn notice_id(number: u32, member: MemberId) -> Uuid {
    let digest = Sha256::new()
        .chain_update(b"kikeru policy notice\0")
        .chain_update(number.to_be_bytes())
        .chain_update(member.as_uuid().as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

impl PolicyDesk {
    /// The use cases on their adapters.
    pub fn new(ports: PolicyPorts) -> Self {
        Self { ports }
    }

    /// Every published version, oldest first.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn versions(&self) -> Result<Vec<PolicyVersion>, StoreError> {
        self.ports.versions.versions().await
    }

    /// The version in force at `now` (number and effective day), and the latest published one
    /// (which may take effect later).
    ///
    /// # Errors
    /// When storage fails.
    pub async fn current(&self) -> Result<((u32, Date), Option<PolicyVersion>), StoreError> {
        let versions = self.versions().await?;
        let today = self.today();
        let in_force = versions
            .iter()
            .filter(|v| v.effective <= today)
            .map(|v| (v.number, v.effective))
            .next_back()
            .unwrap_or(FIRST);
        Ok((in_force, versions.last().cloned()))
    }

    /// Publishes version `number` (the next one), taking effect on `effective`, with what
    /// changed; `by` is the administrator, or none for the command line. Then tells the members
    /// ([`PolicyDesk::notify`]).
    ///
    /// # Errors
    /// [`PolicyError`].
    pub async fn publish(
        &self,
        by: Option<&Operator>,
        number: u32,
        effective: Date,
        changes_ja: &str,
        changes_en: &str,
    ) -> Result<PolicyVersion, PolicyError> {
        if by.is_some_and(|o| o.role < Role::Admin) {
            return Err(PolicyError::NotAdministrator);
        }
        let (changes_ja, changes_en) = (changes_ja.trim(), changes_en.trim());
        if [changes_ja, changes_en]
            .iter()
            .any(|t| t.is_empty() || t.chars().count() > MAX_CHANGES || t.contains('\0'))
        {
            return Err(PolicyError::Changes);
        }
        if effective < self.today() {
            return Err(PolicyError::Backdated);
        }
        let next = self.versions().await?.last().map_or(FIRST.0, |v| v.number) + 1;
        if number != next {
            return Err(PolicyError::NotNext(next));
        }
        let version = PolicyVersion {
            number,
            effective,
            changes_ja: changes_ja.to_owned(),
            changes_en: changes_en.to_owned(),
            published_at: self.ports.clock.now(),
            published_by: by.map(|o| o.id),
            notice_cursor: None,
            notice_sent: 0,
            notice_done: false,
        };
        match self
            .ports
            .unit
            .apply(vec![Change::PublishPolicy(version)].into())
            .await
        {
            Ok(()) => {}
            // Published by someone else at the same moment.
            Err(StoreError::Conflict) => return Err(PolicyError::NotNext(next + 1)),
            Err(e) => return Err(e.into()),
        }
        self.notify(number).await
    }

    /// Tells every member there was at publication about version `number`, by mail in their
    /// language, batch by batch from where the notice stands (so it resumes after a crash, and
    /// two runs at once tell each member once). Answers the version as it is then.
    ///
    /// # Errors
    /// [`PolicyError::NotFound`]; storage failures.
    pub async fn notify(&self, number: u32) -> Result<PolicyVersion, PolicyError> {
        let mut version = self.version(number).await?;
        while !version.notice_done {
            let batch = self
                .ports
                .incidents
                // Those registered at the moment of publication or before.
                .members_after(
                    version.notice_cursor,
                    version.published_at + time::Duration::milliseconds(1),
                    NOTICE_BATCH,
                )
                .await?;
            let now = self.ports.clock.now();
            let mut changes = Changes::new();
            let mut sent = 0;
            for id in &batch {
                let Some(member) = self.ports.members.by_id(*id).await? else {
                    continue;
                };
                changes.push(Change::Send(Envelope {
                    id: notice_id(number, member.id),
                    member_id: Some(member.id),
                    mail: Mail {
                        to: member.email.clone(),
                        language: member.language,
                        message: Message::PolicyChanged {
                            number,
                            effective: version.effective.to_string(),
                            changes: version.changes(member.language).to_owned(),
                        },
                    },
                    created_at: now,
                }));
                sent += 1;
            }
            let before = version.clone();
            changes.push(Change::PolicyNoticeProgress {
                number,
                from: version.notice_cursor,
                to: batch.last().copied().or(version.notice_cursor),
                sent,
                done: batch.len() < NOTICE_BATCH as usize,
            });
            let raced = match self.ports.unit.apply(changes).await {
                Ok(()) => false,
                Err(StoreError::Conflict) => true,
                Err(e) => return Err(e.into()),
            };
            version = self.version(number).await?;
            if raced && version == before {
                return Err(StoreError::Other("the policy notice made no progress".into()).into());
            }
        }
        Ok(version)
    }

    async fn version(&self, number: u32) -> Result<PolicyVersion, PolicyError> {
        self.versions()
            .await?
            .into_iter()
            .find(|v| v.number == number)
            .ok_or(PolicyError::NotFound)
    }

    fn today(&self) -> Date {
        self.ports
            .clock
            .now()
            .to_offset(time::macros::offset!(+9))
            .date()
    }
}
