//! The transactional outbox and its postman: use cases put mail in the outbox together with
//! their state change (see [`crate::changes`]); the [`Postman`] hands it to the mail provider
//! later, retries with exponential backoff while the provider fails temporarily, marks each
//! message sent once, and gives up — audited — after a limit or on a permanent refusal.
//!
//! Several postmen may run at once (one per node): a message is claimed by one of them for a
//! lease, and only the claim's holder can settle it.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use uuid::Uuid;

use crate::kernel::ids::uuid_v7;
use crate::ports::{AuditLog, Clock, Mail, Mailer, Message, Random, Receipt, ReceiptLine};
use crate::privacy::{Processors, not_entrusted};
use crate::{Member, MemberId, Order, SecurityEvent, SecurityEventKind, StoreError, Timestamp};

/// The register key of the mail provider.
pub const MAIL_PROCESSOR: &str = "mail";

/// What every mail hands the mail provider.
pub fn mail_categories() -> crate::privacy::Categories {
    [
        crate::privacy::DataCategory::EmailAddress,
        crate::privacy::DataCategory::MessageContent,
    ]
    .into_iter()
    .collect()
}

/// A mail waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Its ID (UUIDv7: outbox order is creation order).
    pub id: Uuid,
    /// The member it concerns, if any (for the audit of a failure).
    pub member_id: Option<MemberId>,
    /// The mail.
    pub mail: Mail,
    /// When it was put in the outbox.
    pub created_at: Timestamp,
}

impl Envelope {
    /// The receipt of an order paid at `paid_at`, to its member in their language. Its ID is
    /// the order's: an order has one receipt, however often its payment is reported.
    pub fn receipt(order: &Order, member: &Member, paid_at: Timestamp) -> Self {
        Self::receipt_to(order, member.id, &member.email, member.language, paid_at)
    }

    /// [`Envelope::receipt`], to the member `member_id` at `to`, in `language` (for adapters
    /// that read only these of the member).
    pub fn receipt_to(
        order: &Order,
        member_id: MemberId,
        to: &crate::Email,
        language: crate::Language,
        paid_at: Timestamp,
    ) -> Self {
        let lines = order
            .lines
            .iter()
            .map(|line| ReceiptLine {
                title: line.title.get(language).to_owned(),
                unit_price_minor: line.unit_price.minor(),
                quantity: line.quantity,
            })
            .collect();
        let receipt = Receipt {
            order_id: *order.id.as_uuid(),
            paid_at,
            lines,
            total_minor: order.total.minor(),
            currency: order.total.currency().code().to_owned(),
        };
        Self {
            id: *order.id.as_uuid(),
            member_id: Some(member_id),
            mail: Mail {
                to: to.clone(),
                language,
                message: Message::Receipt(receipt),
            },
            created_at: paid_at,
        }
    }
}

/// A mail a postman claimed for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The outbox ID.
    pub id: Uuid,
    /// The member it concerns, if any.
    pub member_id: Option<MemberId>,
    /// The mail.
    pub mail: Mail,
    /// Delivery attempts so far, this one included.
    pub attempts: u32,
}

/// What became of a claimed mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// Handed over.
    Sent,
    /// Try again at `at`.
    Retry {
        /// When.
        at: Timestamp,
        /// Why this attempt failed.
        error: String,
    },
    /// Given up.
    Failed {
        /// Why.
        error: String,
    },
}

/// How many mails are in each state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxCounts {
    /// Waiting (for a first attempt or a retry).
    pub pending: u64,
    /// Handed over.
    pub sent: u64,
    /// Given up.
    pub failed: u64,
}

/// The outbox: mail waiting for delivery. Mail enters it through
/// [`crate::changes::UnitOfWork::apply`] ([`crate::changes::Change::Send`]).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Outbox: Send + Sync + 'static {
    /// Claims up to `limit` due mails — pending, next attempt at or before `now`, and not held
    /// by another claim whose lease still runs — longest due first (fresh mail is due when it
    /// is made, so oldest first; a retry waits its turn behind mail due earlier). Each claimed
    /// mail's attempts grow by one and it is held by `claim` until `now + lease`.
    ///
    /// MUST hand each mail to one claim only, even when several postmen claim at the same
    /// moment from several nodes.
    ///
    /// # Errors
    /// When storage fails.
    async fn claim(
        &self,
        claim: Uuid,
        now: Timestamp,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Claimed>, StoreError>;

    /// Settles a mail held by `claim`; answers whether it did.
    ///
    /// MUST do nothing and answer `false` when the mail is no longer held by `claim` (its
    /// lease ran out and another postman claimed it, or it was settled). A sent or failed mail
    /// MUST keep no content (no tokens, no text); a sent one not even its address.
    ///
    /// # Errors
    /// When storage fails.
    async fn settle(
        &self,
        id: Uuid,
        claim: Uuid,
        settlement: Settlement,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Settles as [`Settlement::Sent`] every mail of `ids` still held by `claim`, together;
    /// answers the IDs it settled. The same rules as [`Outbox::settle`] hold for each mail
    /// (adapters may do it in one statement; this default settles them one by one).
    ///
    /// # Errors
    /// When storage fails.
    async fn settle_sent(
        &self,
        ids: &[Uuid],
        claim: Uuid,
        now: Timestamp,
    ) -> Result<Vec<Uuid>, StoreError> {
        let mut settled = Vec::with_capacity(ids.len());
        for id in ids {
            if self.settle(*id, claim, Settlement::Sent, now).await? {
                settled.push(*id);
            }
        }
        Ok(settled)
    }

    /// How many mails are in each state.
    ///
    /// # Errors
    /// When storage fails.
    async fn counts(&self) -> Result<OutboxCounts, StoreError>;
}

/// How the postman retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostmanConfig {
    /// Attempts before giving up (8 by default: with the default delays, about 2 hours).
    pub max_attempts: u32,
    /// The delay after the first failed attempt (30 s); it doubles after each failure.
    pub first_retry: Duration,
    /// The longest delay between attempts (1 h).
    pub longest_retry: Duration,
    /// How long a claim holds a mail (5 min): longer than any one delivery may take.
    pub lease: Duration,
    /// The most mails claimed at once (20).
    pub batch: u32,
}

impl Default for PostmanConfig {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            first_retry: Duration::from_secs(30),
            longest_retry: Duration::from_secs(3600),
            lease: Duration::from_secs(300),
            batch: 20,
        }
    }
}

impl PostmanConfig {
    /// The delay after the `attempts`-th failed attempt: `first_retry × 2^(attempts − 1)`, at
    /// most `longest_retry`.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(31);
        self.first_retry
            .checked_mul(1 << doublings)
            .unwrap_or(self.longest_retry)
            .min(self.longest_retry)
    }
}

/// The adapters the postman runs on.
#[derive(Clone)]
pub struct PostmanPorts {
    /// The outbox.
    pub outbox: Arc<dyn Outbox>,
    /// The mail provider.
    pub mailer: Arc<dyn Mailer>,
    /// The register of entrusted processors.
    pub processors: Arc<dyn Processors>,
    /// The audit log (a mail given up is a security event: a member may miss a notice).
    pub audit: Arc<dyn AuditLog>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Randomness (claim IDs).
    pub random: Arc<dyn Random>,
}

impl std::fmt::Debug for PostmanPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostmanPorts { .. }")
    }
}

/// What one round of delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Round {
    /// Mails handed over.
    pub sent: u32,
    /// Mails that failed and wait for a retry.
    pub retrying: u32,
    /// Mails given up.
    pub failed: u32,
    /// Mails whose claim another postman took over meanwhile (not settled by this one).
    pub lost_claims: u32,
}

impl Round {
    /// How many mails the round claimed.
    pub const fn claimed(&self) -> u32 {
        self.sent + self.retrying + self.failed + self.lost_claims
    }
}

/// Delivers the outbox.
#[derive(Debug, Clone)]
pub struct Postman {
    ports: PostmanPorts,
    config: PostmanConfig,
}

impl Postman {
    /// A postman on its adapters.
    pub fn new(ports: PostmanPorts, config: PostmanConfig) -> Self {
        Self { ports, config }
    }

    /// The most mails one round claims.
    pub fn batch(&self) -> u32 {
        self.config.batch
    }

    /// The outbox's counts.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn counts(&self) -> Result<OutboxCounts, StoreError> {
        self.ports.outbox.counts().await
    }

    /// Claims the due mails and tries to deliver each once. A mail the register does not let
    /// the mail provider receive is given up without being handed over.
    ///
    /// # Errors
    /// When storage fails; mails already claimed are retried once their lease ends.
    pub async fn deliver_due(&self) -> Result<Round, StoreError> {
        let now = self.ports.clock.now();
        let claim = uuid_v7(now, &self.ports.random.bytes32());
        let claimed = self
            .ports
            .outbox
            .claim(claim, now, self.config.lease, self.config.batch)
            .await?;
        let mut round = Round::default();
        if claimed.is_empty() {
            return Ok(round);
        }
        let register = self.ports.processors.all().await?;
        // Sent mail is recorded together once the batch is handed over (one write for the
        // batch); a crash before that hands the batch over again when its lease ends, as it
        // would one mail between handing it over and recording it.
        let mut sent = Vec::with_capacity(claimed.len());
        for mail in claimed {
            let settlement = match not_entrusted(&register, MAIL_PROCESSOR, &mail_categories()) {
                Some(category) => Settlement::Failed {
                    error: format!(
                        "the mail provider is not entrusted with {}",
                        category.as_str()
                    ),
                },
                None => self.attempt(&mail).await,
            };
            if settlement == Settlement::Sent {
                sent.push(mail.id);
                continue;
            }
            let settled_at = self.ports.clock.now();
            let failed = matches!(settlement, Settlement::Failed { .. });
            if !self
                .ports
                .outbox
                .settle(mail.id, claim, settlement, settled_at)
                .await?
            {
                round.lost_claims += 1;
                continue;
            }
            if failed {
                round.failed += 1;
                let event = SecurityEvent {
                    id: uuid_v7(settled_at, &self.ports.random.bytes32()),
                    at: settled_at,
                    member_id: mail.member_id,
                    session_id: None,
                    kind: SecurityEventKind::MailUndeliverable,
                };
                self.ports.audit.record(&event).await?;
            } else {
                round.retrying += 1;
            }
        }
        if !sent.is_empty() {
            let settled = self
                .ports
                .outbox
                .settle_sent(&sent, claim, self.ports.clock.now())
                .await?;
            round.sent += settled.len() as u32;
            round.lost_claims += (sent.len() - settled.len()) as u32;
        }
        Ok(round)
    }

    async fn attempt(&self, mail: &Claimed) -> Settlement {
        match self.ports.mailer.send(&mail.mail).await {
            Ok(()) => Settlement::Sent,
            Err(e) => {
                let error = error_chain(&e);
                if e.is_permanent() || mail.attempts >= self.config.max_attempts {
                    Settlement::Failed { error }
                } else {
                    Settlement::Retry {
                        at: self.ports.clock.now() + self.config.backoff(mail.attempts),
                        error,
                    }
                }
            }
        }
    }
}

/// An error and its sources, one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_the_first_delay_up_to_the_longest() {
        let config = PostmanConfig::default();
        let delays: Vec<u64> = (1..=9).map(|n| config.backoff(n).as_secs()).collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(config.backoff(u32::MAX), config.longest_retry);
    }
}
