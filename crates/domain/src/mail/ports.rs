//! Ports of mail: the outbox that keeps mail until it is delivered, and the mailer that hands
//! it over.

use std::time::Duration;

use async_trait::async_trait;
use uuid::Uuid;

use crate::mail::message::Mail;
use crate::mail::outbox::{Claimed, OutboxCounts, Settlement};
use crate::{StoreError, Timestamp};

/// Handing a mail over failed.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// It may succeed later (the server is down, busy, or answered 4xx): retry.
    #[error("mail could not be sent now")]
    Temporary(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// It never will (the server refused the message or the recipient with 5xx): give up.
    #[error("mail was refused")]
    Permanent(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl MailError {
    /// Whether retrying cannot help.
    pub const fn is_permanent(&self) -> bool {
        matches!(self, Self::Permanent(_))
    }
}

/// Outgoing mail (the mail provider is an entrusted processor: it receives the address and
/// the message, nothing else). Use cases never call it: they put mail in the outbox with
/// their state change, and the [`crate::mail::postman::Postman`] hands it over.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Sends one mail. MUST either hand it over durably or fail; MUST say whether a failure
    /// is [`MailError::Permanent`].
    ///
    /// # Errors
    /// [`MailError`] when it could not be handed over.
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
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
