//! Refunds and disputes: the cases a payment can have after the money was taken, and what
//! they make of the payment.
//!
//! A provider reports each case many times as it moves (a refund `pending`, then `succeeded`;
//! a dispute opened, then closed), and its reports may arrive twice or out of order. Each case
//! is therefore kept once, by the provider's reference, at the furthest state reported
//! ([`CaseState::rank`]: a report of an earlier state changes nothing), and the payment's status
//! is computed from all its cases together ([`crate::shop::standing::standing`]) rather than
//! stepped by each report. The same reports in any order give the same status.

use crate::{Money, Timestamp};

/// Where one refund stands at the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefundState {
    /// The member must act first (Stripe: konbini refunds need the member's bank account).
    RequiresAction,
    /// Asked, not settled yet.
    Pending,
    /// The money went back.
    Succeeded,
    /// It failed (the money did not go back; the payment can be refunded again).
    Failed,
    /// It was canceled before it settled.
    Canceled,
}

/// Where one dispute (a chargeback, or the card issuer's inquiry before one) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisputeState {
    /// Open: the shop may answer until the deadline.
    Open,
    /// Closed in the shop's favour (or the inquiry closed without a chargeback).
    Won,
    /// Closed in the cardholder's favour: the price was taken back.
    Lost,
}

/// What a case is and where it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseState {
    /// A refund.
    Refund(RefundState),
    /// A dispute.
    Dispute(DisputeState),
}

impl CaseState {
    /// Every state.
    pub const ALL: [Self; 8] = [
        Self::Refund(RefundState::RequiresAction),
        Self::Refund(RefundState::Pending),
        Self::Refund(RefundState::Succeeded),
        Self::Refund(RefundState::Failed),
        Self::Refund(RefundState::Canceled),
        Self::Dispute(DisputeState::Open),
        Self::Dispute(DisputeState::Won),
        Self::Dispute(DisputeState::Lost),
    ];

    /// The stable name of the kind (`refund`, `dispute`), for storage and the API.
    pub const fn kind(self) -> &'static str {
        match self {
            Self::Refund(_) => "refund",
            Self::Dispute(_) => "dispute",
        }
    }

    /// The stable name of the state within its kind, for storage and the API.
    pub const fn state(self) -> &'static str {
        match self {
            Self::Refund(RefundState::RequiresAction) => "requires_action",
            Self::Refund(RefundState::Pending) => "pending",
            Self::Refund(RefundState::Succeeded) => "succeeded",
            Self::Refund(RefundState::Failed) => "failed",
            Self::Refund(RefundState::Canceled) => "canceled",
            Self::Dispute(DisputeState::Open) => "open",
            Self::Dispute(DisputeState::Won) => "won",
            Self::Dispute(DisputeState::Lost) => "lost",
        }
    }

    /// The state with these stable names.
    pub fn from_names(kind: &str, state: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.kind() == kind && s.state() == state)
    }

    /// How far the case has come. A case only moves forward: a refund that needs the
    /// member's action, then pending, then settled, and it may still fail after it settled
    /// (Stripe documents that rare case); a dispute is open, then closed. A report of a lower
    /// rank than the one kept is an old report arriving late.
    pub const fn rank(self) -> u8 {
        match self {
            Self::Refund(RefundState::RequiresAction) | Self::Dispute(DisputeState::Open) => 0,
            Self::Refund(RefundState::Pending) => 1,
            Self::Refund(RefundState::Succeeded) => 2,
            Self::Dispute(DisputeState::Won | DisputeState::Lost) => 3,
            Self::Refund(RefundState::Failed | RefundState::Canceled) => 3,
        }
    }

    /// Whether the operators must look at it: an open dispute (it has a deadline), a refund
    /// that failed or was canceled (the member's money is not back), a refund waiting for the
    /// member's action.
    pub const fn needs_attention(self) -> bool {
        matches!(
            self,
            Self::Dispute(DisputeState::Open)
                | Self::Refund(RefundState::Failed | RefundState::Canceled)
                | Self::Refund(RefundState::RequiresAction)
        )
    }
}

/// A refund or a dispute of a payment, as its provider reported it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Case {
    /// The provider's reference of the case (Stripe: `re_…`, `du_…`).
    pub reference: String,
    /// Where it stands.
    pub state: CaseState,
    /// The amount refunded or disputed.
    pub amount: Money,
    /// The provider's reason code: a dispute's reason (`fraudulent`, `product_not_received`,
    /// …) or a refund's failure reason.
    pub reason: Option<String>,
    /// Until when the shop may answer a dispute.
    pub respond_by: Option<Timestamp>,
}

impl Case {
    /// The case as it stands after `report` arrives for it: the report when it came further,
    /// else the case as kept (a late, older report changes nothing).
    #[must_use]
    pub fn merged(&self, report: &Self) -> Self {
        // Two states of one rank never both happen to one case; should they, the order of
        // names decides, so that the order of arrival never does.
        let key = |state: CaseState| (state.rank(), state.state());
        if key(report.state) > key(self.state) {
            Self {
                // A closing report may leave out what the opening one told.
                reason: report.reason.clone().or_else(|| self.reason.clone()),
                respond_by: report.respond_by.or(self.respond_by),
                ..report.clone()
            }
        } else {
            self.clone()
        }
    }
}

/// The cases after `report` arrives: the case it names merged, or added when new.
pub fn with_report(cases: &[Case], report: &Case) -> Vec<Case> {
    let mut merged: Vec<Case> = cases.to_vec();
    match merged.iter_mut().find(|c| c.reference == report.reference) {
        Some(kept) => *kept = kept.merged(report),
        None => merged.push(report.clone()),
    }
    merged
}
