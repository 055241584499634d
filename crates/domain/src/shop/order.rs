//! Orders and their payments: what was bought, when, at what price, and the state machine that
//! moves them on the payment provider's word.
//!
//! The provider's events may arrive twice, late or out of order. [`decide`] makes that safe: a
//! refund is final; a payment the provider reports as taken beats any earlier failure, expiry or
//! cancellation; failures only end a payment that is still open; anything else changes nothing.

use std::fmt;

use uuid::Uuid;

use crate::{Localized, MemberId, Money, ProductId, Sku, Timestamp};

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps a UUID.
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            /// The UUID.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_id!(
    /// An order's unique ID.
    OrderId
);
uuid_id!(
    /// A payment attempt's unique ID.
    PaymentId
);

/// Where a payment stands. An order's state follows its payment's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentStatus {
    /// Waiting for the member at the provider's checkout (or for an asynchronous payment).
    Open,
    /// The provider took the money.
    Paid,
    /// The provider declined or the asynchronous payment failed.
    Failed,
    /// The checkout expired unused.
    Expired,
    /// The member canceled at the checkout.
    Canceled,
    /// The money was given back.
    Refunded,
    /// A refund was asked and has not settled yet (it may still fail: then the order is paid
    /// again).
    RefundPending,
    /// The cardholder disputed the payment: the purchase is withheld until the dispute closes.
    Disputed,
    /// A dispute was lost: the price was taken back by the card issuer, the purchase ends.
    ChargedBack,
}

impl PaymentStatus {
    /// Every status.
    pub const ALL: [Self; 9] = [
        Self::Open,
        Self::Paid,
        Self::Failed,
        Self::Expired,
        Self::Canceled,
        Self::Refunded,
        Self::RefundPending,
        Self::Disputed,
        Self::ChargedBack,
    ];

    /// The stable name used in storage and the API.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "pending",
            Self::Paid => "paid",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Canceled => "canceled",
            Self::Refunded => "refunded",
            Self::RefundPending => "refund_pending",
            Self::Disputed => "disputed",
            Self::ChargedBack => "charged_back",
        }
    }

    /// The status with this stable name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the member owns what the order bought.
    pub const fn grants_access(self) -> bool {
        matches!(self, Self::Paid)
    }

    /// Whether the provider took the money at some point (the order is a purchase, shown in
    /// the member's history, whatever happened after).
    pub const fn was_paid(self) -> bool {
        matches!(
            self,
            Self::Paid | Self::Refunded | Self::RefundPending | Self::Disputed | Self::ChargedBack
        )
    }

    /// Whether the price went back, in full, to the member or through the card issuer: a
    /// return invoice is due.
    pub const fn returned(self) -> bool {
        matches!(self, Self::Refunded | Self::ChargedBack)
    }
}

/// What the payment provider reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentSignal {
    /// The checkout completed and the money was taken.
    Succeeded,
    /// The checkout completed but an asynchronous payment is still on its way.
    Processing,
    /// The payment was declined or failed.
    Failed,
    /// The checkout expired.
    Expired,
    /// The member canceled the checkout.
    Canceled,
    /// The payment was refunded.
    Refunded,
}

impl PaymentSignal {
    /// The stable name used in storage.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Processing => "processing",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Canceled => "canceled",
            Self::Refunded => "refunded",
        }
    }
}

/// What a signal does to a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The payment moves to this status.
    To(PaymentStatus),
    /// Nothing changes (a duplicate, a late or stale report, or news that changes nothing).
    Unchanged,
}

/// The state machine: what `signal` does to a payment in status `current`.
pub const fn decide(current: PaymentStatus, signal: PaymentSignal) -> Transition {
    use PaymentSignal as S;
    use PaymentStatus as P;
    match (current, signal) {
        (P::Refunded | P::ChargedBack, _) => Transition::Unchanged,
        (_, S::Refunded) => Transition::To(P::Refunded),
        // Refunds under way and disputes move by their cases alone.
        (P::RefundPending | P::Disputed, _) => Transition::Unchanged,
        (P::Paid, _) => Transition::Unchanged,
        (_, S::Succeeded) => Transition::To(P::Paid),
        (P::Open, S::Failed) => Transition::To(P::Failed),
        (P::Open, S::Expired) => Transition::To(P::Expired),
        (P::Open, S::Canceled) => Transition::To(P::Canceled),
        _ => Transition::Unchanged,
    }
}

/// What one provider event does to a payment and its order, as every store must persist it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Nothing changes (the store still learns the payment's provider reference).
    Unchanged,
    /// The payment and its order move.
    Moved {
        /// The new status of the payment, and of its order.
        status: PaymentStatus,
        /// The first time the order is paid: its paid time, and its receipt goes out in the
        /// same transaction (to the member as stored then; none if the member is gone).
        /// `None` on every later move, so no order is paid twice or receipted twice.
        first_paid_at: Option<Timestamp>,
    },
}

/// The payment transition, decided once for every store: `signal` arrives at `at` for a
/// payment in status `current` whose order was already paid once (`order_paid`) or never.
/// Stores persist the step and decide nothing themselves.
pub const fn step(
    current: PaymentStatus,
    order_paid: bool,
    signal: PaymentSignal,
    at: Timestamp,
) -> Step {
    match decide(current, signal) {
        Transition::Unchanged => Step::Unchanged,
        Transition::To(status) => Step::Moved {
            status,
            first_paid_at: match status {
                PaymentStatus::Paid if !order_paid => Some(at),
                _ => None,
            },
        },
    }
}

/// An operator asked to refund a payment that was never taken (or was already refunded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("only a paid order can be refunded; this one is {0:?}")]
pub struct NotRefundable(pub PaymentStatus);

/// Checks that an order in `status` can be refunded.
///
/// # Errors
/// [`NotRefundable`] unless it is paid.
pub const fn check_refundable(status: PaymentStatus) -> Result<(), NotRefundable> {
    match status {
        PaymentStatus::Paid => Ok(()),
        other => Err(NotRefundable(other)),
    }
}

/// One item of an order, as it was when ordered (title and price are snapshots).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    /// The product.
    pub product_id: ProductId,
    /// Its SKU then.
    pub sku: Sku,
    /// Its titles then.
    pub title: Localized,
    /// Its tax-inclusive price then.
    pub unit_price: Money,
    /// How many (1 for digital content).
    pub quantity: u32,
    /// The consumption tax rate it was sold at, in percent.
    pub tax_rate: u32,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The ID.
    pub id: OrderId,
    /// Who ordered.
    pub member_id: MemberId,
    /// What.
    pub lines: Vec<OrderLine>,
    /// The tax-inclusive total.
    pub total: Money,
    /// Per tax rate, as placed: the tax-inclusive total, the tax in it (rounded once per rate)
    /// and the amount without it. Empty for orders placed before prices carried their tax.
    pub taxes: Vec<crate::shop::tax::RateTotal>,
    /// Where it stands (its payment's status).
    pub status: PaymentStatus,
    /// The client's `Idempotency-Key`, if it sent one.
    pub idempotency_key: Option<String>,
    /// When it was placed.
    pub created_at: Timestamp,
    /// When it was paid, once it was.
    pub paid_at: Option<Timestamp>,
}

/// One recorded change of a payment's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// The new status.
    pub status: PaymentStatus,
    /// When it changed.
    pub at: Timestamp,
    /// The provider's event that caused it (`None` for the creation of the payment).
    pub event_id: Option<String>,
}

/// A payment attempt at the provider's hosted checkout. No card data, ever: only the
/// provider's reference to its checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// The ID.
    pub id: PaymentId,
    /// The order it pays.
    pub order_id: OrderId,
    /// Whose.
    pub member_id: MemberId,
    /// The provider (`sandbox`, `stripe`).
    pub provider: String,
    /// The provider's checkout reference, once the checkout exists.
    pub reference: Option<String>,
    /// Where the member pays, once the checkout exists.
    pub checkout_url: Option<String>,
    /// The provider's reference of the payment itself, once an event revealed it.
    pub payment_ref: Option<String>,
    /// The amount.
    pub amount: Money,
    /// The current status.
    pub status: PaymentStatus,
    /// Every change, oldest first (the first is the creation, `Open`).
    pub history: Vec<StatusChange>,
    /// Its refunds and disputes, each as it stands, in the order they were first reported.
    pub cases: Vec<crate::shop::case::Case>,
    /// When it was created.
    pub created_at: Timestamp,
}

/// A provider's event, verified and parsed by the payment gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentEvent {
    /// The provider's unique event ID (duplicates are ignored by it).
    pub event_id: String,
    /// The provider (`sandbox`, `stripe`).
    pub provider: String,
    /// The checkout reference the event is about — or, for providers whose later events name
    /// the payment rather than the checkout, that payment reference.
    pub reference: String,
    /// The provider's reference of the payment itself, when the event reveals it (Stripe's
    /// PaymentIntent); stored so that later events naming only the payment find it.
    pub payment_ref: Option<String>,
    /// What it reports.
    pub news: News,
}

/// What a provider's event reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum News {
    /// What became of the checkout and its payment; [`step`] decides what it does.
    Checkout(PaymentSignal),
    /// Where a refund or a dispute of the payment stands; the payment's status is then the
    /// [`crate::shop::standing::standing`] of all its cases.
    Case(crate::shop::case::Case),
}

impl From<PaymentSignal> for News {
    fn from(signal: PaymentSignal) -> Self {
        Self::Checkout(signal)
    }
}

/// What applying an event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventOutcome {
    /// The event ID was seen before: nothing was done.
    Duplicate,
    /// No payment has this reference (yet, or ever): nothing is recorded, so a redelivery once
    /// the checkout is known still applies.
    UnknownReference,
    /// The payment moved.
    Applied {
        /// The order.
        order_id: OrderId,
        /// Its new status.
        status: PaymentStatus,
    },
    /// The event changed nothing (late, stale or repeated news).
    Unchanged {
        /// The order.
        order_id: OrderId,
        /// Its status.
        status: PaymentStatus,
    },
}

/// A purchased item, for the member's purchase history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purchase {
    /// The order.
    pub order_id: OrderId,
    /// The line's position in the order (for stable ordering).
    pub line: u32,
    /// What was bought, as it was then.
    pub item: OrderLine,
    /// When it was paid.
    pub paid_at: Timestamp,
    /// `Paid` or `Refunded`.
    pub status: PaymentStatus,
}

/// Where a page of purchase history starts: after this (paid time, order, line), newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurchaseCursor {
    /// The paid time of the last item seen.
    pub paid_at: Timestamp,
    /// Its order.
    pub order_id: OrderId,
    /// Its line.
    pub line: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use PaymentSignal as S;
    use PaymentStatus as P;
    use proptest::prelude::*;

    fn check(current: P, signal: S, expected: Transition) {
        assert_eq!(
            decide(current, signal),
            expected,
            "{current:?} + {signal:?}"
        );
    }

    #[test]
    fn the_state_machine_moves_open_payments_and_honours_what_the_provider_took() {
        check(P::Open, S::Succeeded, Transition::To(P::Paid));
        check(P::Open, S::Processing, Transition::Unchanged);
        check(P::Open, S::Failed, Transition::To(P::Failed));
        check(P::Open, S::Expired, Transition::To(P::Expired));
        check(P::Open, S::Canceled, Transition::To(P::Canceled));
        check(P::Open, S::Refunded, Transition::To(P::Refunded));
        check(P::Paid, S::Succeeded, Transition::Unchanged);
        check(P::Paid, S::Expired, Transition::Unchanged);
        check(P::Paid, S::Failed, Transition::Unchanged);
        check(P::Paid, S::Refunded, Transition::To(P::Refunded));
        check(P::Expired, S::Succeeded, Transition::To(P::Paid));
        check(P::Failed, S::Succeeded, Transition::To(P::Paid));
        check(P::Canceled, S::Failed, Transition::Unchanged);
        check(P::Refunded, S::Succeeded, Transition::Unchanged);
        check(P::Refunded, S::Refunded, Transition::Unchanged);
    }

    #[test]
    fn only_the_first_payment_of_an_order_stamps_its_paid_time_and_sends_a_receipt() {
        let at = time::macros::datetime!(2026-04-01 09:00 UTC);
        assert_eq!(
            step(P::Open, false, S::Succeeded, at),
            Step::Moved {
                status: P::Paid,
                first_paid_at: Some(at)
            }
        );
        // Expired, then paid after all: still the first payment.
        assert_eq!(
            step(P::Expired, false, S::Succeeded, at),
            Step::Moved {
                status: P::Paid,
                first_paid_at: Some(at)
            }
        );
        // An order paid before is never stamped or receipted again.
        assert_eq!(
            step(P::Failed, true, S::Succeeded, at),
            Step::Moved {
                status: P::Paid,
                first_paid_at: None
            }
        );
        assert_eq!(
            step(P::Paid, true, S::Refunded, at),
            Step::Moved {
                status: P::Refunded,
                first_paid_at: None
            }
        );
        assert_eq!(step(P::Paid, true, S::Succeeded, at), Step::Unchanged);
        assert_eq!(
            step(P::Open, false, S::Expired, at),
            Step::Moved {
                status: P::Expired,
                first_paid_at: None
            }
        );
    }

    #[test]
    fn only_paid_orders_can_be_refunded() {
        assert_eq!(check_refundable(P::Paid), Ok(()));
        assert_eq!(check_refundable(P::Open), Err(NotRefundable(P::Open)));
        assert_eq!(
            check_refundable(P::Refunded),
            Err(NotRefundable(P::Refunded))
        );
    }

    fn run(signals: &[S]) -> P {
        signals
            .iter()
            .fold(P::Open, |status, signal| match decide(status, *signal) {
                Transition::To(next) => next,
                Transition::Unchanged => status,
            })
    }

    fn signal() -> impl Strategy<Value = S> {
        prop_oneof![
            Just(S::Succeeded),
            Just(S::Processing),
            Just(S::Failed),
            Just(S::Expired),
            Just(S::Canceled),
            Just(S::Refunded)
        ]
    }

    proptest! {
        #[test]
        fn duplicates_never_change_the_outcome(signals in proptest::collection::vec(signal(), 0..12)) {
            let doubled: Vec<S> = signals.iter().flat_map(|s| [*s, *s]).collect();
            prop_assert_eq!(run(&signals), run(&doubled));
        }

        #[test]
        fn money_taken_or_given_back_decides_regardless_of_order(mut signals in proptest::collection::vec(signal(), 0..12)) {
            let outcome = run(&signals);
            signals.reverse();
            let reversed = run(&signals);
            if signals.contains(&S::Refunded) {
                prop_assert_eq!(outcome, P::Refunded);
                prop_assert_eq!(reversed, P::Refunded);
            } else if signals.contains(&S::Succeeded) {
                prop_assert_eq!(outcome, P::Paid);
                prop_assert_eq!(reversed, P::Paid);
            } else {
                prop_assert!(!outcome.grants_access());
            }
        }
    }
}
