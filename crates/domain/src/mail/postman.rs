//! The postman: hands what the outbox holds to the mailer when it is due, retries with a
//! growing delay, gives up after the configured attempts, and records each delivery in the
//! member's security history.

use crate::kernel::ids::uuid_v7;
use crate::kernel::ports::{Clock, Random};
use crate::mail::outbox::{Claimed, MAIL_PROCESSOR, OutboxCounts, Settlement, mail_categories};
use crate::mail::ports::Mailer;
use crate::mail::ports::Outbox;
use crate::membership::ports::AuditLog;
use crate::privacy::not_entrusted;
use crate::privacy::ports::Processors;
use crate::{SecurityEvent, SecurityEventKind, StoreError};
use std::sync::Arc;
use std::time::Duration;

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
