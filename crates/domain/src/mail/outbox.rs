//! The transactional outbox and its postman: use cases put mail in the outbox together with
//! their state change (see [`crate::changes`]); the [`crate::mail::postman::Postman`] hands it to the mail provider
//! later, retries with exponential backoff while the provider fails temporarily, marks each
//! message sent once, and gives up — audited — after a limit or on a permanent refusal.
//!
//! Several postmen may run at once (one per node): a message is claimed by one of them for a
//! lease, and only the claim's holder can settle it.

use uuid::Uuid;

use crate::mail::message::{Mail, Message, ReceiptMail, ReceiptMailLine};
use crate::{Member, MemberId, Order, Timestamp};

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
            .map(|line| ReceiptMailLine {
                title: line.title.get(language).to_owned(),
                unit_price_minor: line.unit_price.minor(),
                quantity: line.quantity,
            })
            .collect();
        let receipt = ReceiptMail {
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
    /// When the mail that has waited longest is due (its first attempt or its retry), if
    /// any waits: how far behind the postman is.
    pub oldest_due: Option<crate::Timestamp>,
}
