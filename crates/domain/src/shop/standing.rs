//! What a payment's refunds and disputes make of it: the status that follows from all its cases
//! ([`standing`]), and the step every store persists when a case is reported ([`step_case`]).

use crate::shop::case::{Case, CaseState, DisputeState, RefundState, with_report};
use crate::shop::order::Step;
use crate::{Money, PaymentStatus, Timestamp};

/// The status of a payment of `amount` whose provider reported these cases, once it had taken
/// the money (`current` when there are no cases). A lost dispute takes the money back for
/// good; an open dispute withholds the purchase; refunds that settled the whole amount refund
/// it; a refund under way makes it `RefundPending`; otherwise (no case, or only failed,
/// canceled, partial or won ones) the money is the shop's and the order is paid.
pub fn standing(current: PaymentStatus, amount: Money, cases: &[Case]) -> PaymentStatus {
    use CaseState as C;
    if cases.is_empty() {
        return current;
    }
    let has = |wanted: fn(CaseState) -> bool| cases.iter().any(|c| wanted(c.state));
    if has(|s| s == C::Dispute(DisputeState::Lost)) {
        return PaymentStatus::ChargedBack;
    }
    if has(|s| s == C::Dispute(DisputeState::Open)) {
        return PaymentStatus::Disputed;
    }
    let returned: i64 = cases
        .iter()
        .filter(|c| c.state == C::Refund(RefundState::Succeeded))
        .map(|c| c.amount.minor())
        .sum();
    if returned >= amount.minor() {
        return PaymentStatus::Refunded;
    }
    if has(|s| {
        matches!(
            s,
            C::Refund(RefundState::Pending | RefundState::RequiresAction)
        )
    }) {
        return PaymentStatus::RefundPending;
    }
    PaymentStatus::Paid
}

/// What one report of a refund or a dispute does, as every store must persist it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseStep {
    /// The case to keep, by its reference (the report merged into the case kept before).
    pub case: Case,
    /// What happens to the payment and its order.
    pub step: Step,
}

/// The case transition, decided once for every store: `report` arrives at `at` for a payment
/// of `amount` in status `current` whose order was paid before (`order_paid`) or never, and
/// which had `cases` before. The case is kept at the furthest state reported; the payment's
/// status becomes the [`standing`] of all its cases. A case proves the money
/// was taken, so a payment still open when its case arrives first becomes paid (and, as for
/// [`crate::shop::order::step`], an order paid for the first time gets its paid time and receipt).
pub fn step_case(
    current: PaymentStatus,
    order_paid: bool,
    amount: Money,
    cases: &[Case],
    report: &Case,
    at: Timestamp,
) -> CaseStep {
    let merged = with_report(cases, report);
    let case = merged
        .iter()
        .find(|c| c.reference == report.reference)
        .cloned()
        .unwrap_or_else(|| report.clone());
    let status = standing(current, amount, &merged);
    let step = if status == current {
        Step::Unchanged
    } else {
        Step::Moved {
            status,
            first_paid_at: match status {
                PaymentStatus::Paid if !order_paid => Some(at),
                _ => None,
            },
        }
    };
    CaseStep { case, step }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;
    use crate::shop::case::{DisputeState, RefundState};
    use proptest::prelude::*;

    fn yen(n: i64) -> Money {
        Money::new(n, Currency::Jpy).unwrap()
    }

    fn refund(reference: &str, state: RefundState, amount: i64) -> Case {
        Case {
            reference: reference.to_owned(),
            state: CaseState::Refund(state),
            amount: yen(amount),
            reason: None,
            respond_by: None,
        }
    }

    fn dispute(reference: &str, state: DisputeState) -> Case {
        Case {
            reference: reference.to_owned(),
            state: CaseState::Dispute(state),
            amount: yen(1100),
            reason: Some("fraudulent".to_owned()),
            respond_by: None,
        }
    }

    fn after(reports: &[Case]) -> PaymentStatus {
        let cases = reports
            .iter()
            .fold(Vec::new(), |cases, report| with_report(&cases, report));
        standing(PaymentStatus::Paid, yen(1100), &cases)
    }

    #[test]
    fn a_refund_is_pending_until_it_settles_and_paid_again_when_it_fails() {
        use RefundState as R;
        assert_eq!(
            after(&[refund("re_1", R::Pending, 1100)]),
            PaymentStatus::RefundPending
        );
        assert_eq!(
            after(&[refund("re_1", R::RequiresAction, 1100)]),
            PaymentStatus::RefundPending
        );
        assert_eq!(
            after(&[
                refund("re_1", R::Pending, 1100),
                refund("re_1", R::Succeeded, 1100)
            ]),
            PaymentStatus::Refunded
        );
        assert_eq!(
            after(&[
                refund("re_1", R::Pending, 1100),
                refund("re_1", R::Failed, 1100)
            ]),
            PaymentStatus::Paid
        );
        // Refunded again after the failure.
        assert_eq!(
            after(&[
                refund("re_1", R::Failed, 1100),
                refund("re_2", R::Pending, 1100),
                refund("re_2", R::Succeeded, 1100),
            ]),
            PaymentStatus::Refunded
        );
        // A late report of an earlier state changes nothing.
        assert_eq!(
            after(&[
                refund("re_1", R::Failed, 1100),
                refund("re_1", R::Pending, 1100)
            ]),
            PaymentStatus::Paid
        );
    }

    #[test]
    fn partial_refunds_leave_the_order_paid_until_they_add_up_to_the_price() {
        use RefundState as R;
        assert_eq!(
            after(&[refund("re_1", R::Succeeded, 100)]),
            PaymentStatus::Paid
        );
        assert_eq!(
            after(&[
                refund("re_1", R::Succeeded, 100),
                refund("re_2", R::Succeeded, 1000)
            ]),
            PaymentStatus::Refunded
        );
    }

    #[test]
    fn a_dispute_withholds_the_purchase_until_it_is_won_and_takes_it_when_lost() {
        use DisputeState as D;
        assert_eq!(after(&[dispute("du_1", D::Open)]), PaymentStatus::Disputed);
        assert_eq!(
            after(&[dispute("du_1", D::Open), dispute("du_1", D::Won)]),
            PaymentStatus::Paid
        );
        assert_eq!(
            after(&[dispute("du_1", D::Open), dispute("du_1", D::Lost)]),
            PaymentStatus::ChargedBack
        );
        // The close arriving first: the late opening report changes nothing.
        assert_eq!(
            after(&[dispute("du_1", D::Won), dispute("du_1", D::Open)]),
            PaymentStatus::Paid
        );
        assert!(!PaymentStatus::Disputed.grants_access());
        assert!(!PaymentStatus::ChargedBack.grants_access());
    }

    #[test]
    fn the_closing_report_keeps_what_the_opening_one_told() {
        let mut opened = dispute("du_1", DisputeState::Open);
        opened.respond_by = Some(time::macros::datetime!(2026-12-20 23:59 UTC));
        let mut closed = dispute("du_1", DisputeState::Won);
        closed.reason = None;
        let kept = opened.merged(&closed);
        assert_eq!(kept.state, CaseState::Dispute(DisputeState::Won));
        assert_eq!(kept.reason.as_deref(), Some("fraudulent"));
        assert_eq!(kept.respond_by, opened.respond_by);
    }

    #[test]
    fn names_round_trip() {
        for state in CaseState::ALL {
            assert_eq!(
                CaseState::from_names(state.kind(), state.state()),
                Some(state)
            );
        }
        assert_eq!(CaseState::from_names("refund", "won"), None);
    }

    fn report() -> impl Strategy<Value = Case> {
        let refund_state = prop_oneof![
            Just(RefundState::RequiresAction),
            Just(RefundState::Pending),
            Just(RefundState::Succeeded),
            Just(RefundState::Failed),
            Just(RefundState::Canceled),
        ];
        let dispute_state = prop_oneof![
            Just(DisputeState::Open),
            Just(DisputeState::Won),
            Just(DisputeState::Lost),
        ];
        prop_oneof![
            (0..3_u8, refund_state, 1..1200_i64).prop_map(|(n, s, a)| refund(
                &format!("re_{n}"),
                s,
                a
            )),
            (0..2_u8, dispute_state).prop_map(|(n, s)| dispute(&format!("du_{n}"), s)),
        ]
    }

    proptest! {
        #[test]
        fn the_same_reports_in_any_order_or_repeated_give_the_same_status(
            reports in proptest::collection::vec(report(), 0..10),
            seed in any::<u64>(),
        ) {
            // A case's amount is the provider's and never changes between its reports.
            let mut amounts = std::collections::HashMap::new();
            let reports: Vec<Case> = reports
                .into_iter()
                .map(|mut r| {
                    r.amount = *amounts.entry(r.reference.clone()).or_insert(r.amount);
                    r
                })
                .collect();
            let mut shuffled = reports.clone();
            let len = shuffled.len();
            for i in 0..len {
                let j = usize::try_from(seed.rotate_left(u32::try_from(i).unwrap_or(0)) % (len as u64)).unwrap_or(0);
                shuffled.swap(i, j);
            }
            let doubled: Vec<Case> = reports.iter().flat_map(|r| [r.clone(), r.clone()]).collect();
            prop_assert_eq!(after(&reports), after(&shuffled));
            prop_assert_eq!(after(&reports), after(&doubled));
        }
    }
}
