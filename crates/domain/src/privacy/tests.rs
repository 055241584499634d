//! The disclosure rules, data-driven, and their invariants as property tests.

use proptest::prelude::*;
use time::macros::datetime;
use uuid::Uuid;

use super::*;

const T0: Timestamp = datetime!(2026-04-01 09:00 UTC);

fn member(n: u128) -> MemberId {
    MemberId::from_uuid(Uuid::from_u128(n))
}

fn cats(list: &[DataCategory]) -> Categories {
    list.iter().copied().collect()
}

fn processors() -> Vec<Processor> {
    vec![Processor {
        key: "stripe".into(),
        name: "Stripe".into(),
        purpose: "payment".into(),
        categories: cats(&[DataCategory::OrderDetails, DataCategory::EmailAddress]),
    }]
}

fn partners() -> Vec<Partner> {
    ["Kikeru Label", "Broker"]
        .into_iter()
        .map(|key| Partner {
            key: key.into(),
            name: format!("{key} K.K."),
            address: "東京都千代田区1-1".into(),
            representative: Some("山田太郎".into()),
            contact: "privacy@example.jp".into(),
        })
        .collect()
}

fn purposes() -> Vec<Purpose> {
    vec![
        Purpose {
            key: "label-offers".into(),
            title: crate::Localized::title("レーベルのお知らせ", "Label offers").unwrap(),
            notice: crate::Localized::description("提供します", "We provide").unwrap(),
            notice_version: 2,
            recipient: Some("Kikeru Label".into()),
            categories: cats(&[DataCategory::EmailAddress, DataCategory::PurchaseHistory]),
            transfer: Transfer::Provision,
        },
        Purpose {
            key: "list-sale".into(),
            title: crate::Localized::title("販売", "Sale").unwrap(),
            notice: crate::Localized::description("販売します", "We sell").unwrap(),
            notice_version: 1,
            recipient: Some("Broker".into()),
            categories: cats(&[DataCategory::EmailAddress]),
            transfer: Transfer::Sale,
        },
    ]
}

fn consent(n: u128, purpose: &str, granted: bool, version: u32, minutes: i64) -> ConsentRecord {
    ConsentRecord {
        member_id: member(n),
        purpose: purpose.into(),
        granted,
        notice_version: version,
        at: T0 + time::Duration::minutes(minutes),
        channel: "web".into(),
    }
}

fn order(approvals: &[u128]) -> LegalOrder {
    LegalOrder {
        id: "LO-1".into(),
        authority: "Tokyo District Court".into(),
        reference: "令和8年(モ)第123号".into(),
        legal_basis: "Code of Civil Procedure Art. 223".into(),
        issued_at: T0,
        members: [member(1)].into_iter().collect(),
        categories: cats(&[DataCategory::EmailAddress, DataCategory::PurchaseHistory]),
        approved_by: approvals
            .iter()
            .map(|a| crate::office::operators::OperatorId::from_uuid(Uuid::from_u128(*a)))
            .collect(),
        notice_withheld_until: None,
    }
}

fn request(
    recipient: Recipient,
    categories: &[DataCategory],
    transfer: Transfer,
    basis: ClaimedBasis,
    minutes: i64,
) -> DisclosureRequest {
    DisclosureRequest {
        member_id: member(1),
        recipient,
        categories: cats(categories),
        transfer,
        basis,
        at: T0 + time::Duration::minutes(minutes),
    }
}

fn check(
    request: DisclosureRequest,
    consents: &[ConsentRecord],
    orders: &[LegalOrder],
    expected: Decision,
) {
    let processors = processors();
    let partners = partners();
    let purposes = purposes();
    let registers = Registers {
        processors: &processors,
        partners: &partners,
        purposes: &purposes,
        consents,
        legal_orders: orders,
        stops: &[],
    };
    assert_eq!(decide(&request, &registers), expected, "{request:?}");
}

use DataCategory::{
    EmailAddress as Email, MessageContent as Message, OrderDetails as Order,
    PurchaseHistory as Purchases,
};

#[test]
fn entrustment_allows_a_processor_its_own_categories_only() {
    let stripe = || Recipient::Processor("stripe".into());
    check(
        request(
            stripe(),
            &[Order],
            Transfer::Provision,
            ClaimedBasis::Entrustment,
            0,
        ),
        &[],
        &[],
        Ok(Basis::Entrustment("stripe".into())),
    );
    check(
        request(
            stripe(),
            &[Order, Email],
            Transfer::Provision,
            ClaimedBasis::Entrustment,
            0,
        ),
        &[],
        &[],
        Ok(Basis::Entrustment("stripe".into())),
    );
    check(
        request(
            stripe(),
            &[Order, Purchases],
            Transfer::Provision,
            ClaimedBasis::Entrustment,
            0,
        ),
        &[],
        &[],
        Err(Denial::NotEntrusted("purchase_history")),
    );
    check(
        request(
            Recipient::Processor("acme".into()),
            &[Order],
            Transfer::Provision,
            ClaimedBasis::Entrustment,
            0,
        ),
        &[],
        &[],
        Err(Denial::NotAProcessor),
    );
    check(
        request(
            Recipient::Partner("stripe".into()),
            &[Order],
            Transfer::Provision,
            ClaimedBasis::Entrustment,
            0,
        ),
        &[],
        &[],
        Err(Denial::NotAProcessor),
    );
    check(
        request(
            stripe(),
            &[Order],
            Transfer::Sale,
            ClaimedBasis::Entrustment,
            0,
        ),
        &[],
        &[],
        Err(Denial::TransferNotConsented),
    );
    check(
        request(
            stripe(),
            &[],
            Transfer::Provision,
            ClaimedBasis::Entrustment,
            0,
        ),
        &[],
        &[],
        Err(Denial::NothingRequested),
    );
}

#[test]
fn consent_allows_only_the_named_recipient_purpose_and_categories_until_withdrawn() {
    let label = || Recipient::Partner("Kikeru Label".into());
    let basis = || ClaimedBasis::Consent("label-offers".into());
    let granted = [consent(1, "label-offers", true, 2, 0)];
    let allowed = Ok(Basis::Consent {
        purpose: "label-offers".into(),
        notice_version: 2,
    });
    check(
        request(
            label(),
            &[Email, Purchases],
            Transfer::Provision,
            basis(),
            5,
        ),
        &granted,
        &[],
        allowed.clone(),
    );
    check(
        request(label(), &[Email], Transfer::Provision, basis(), 5),
        &[],
        &[],
        Err(Denial::NoConsent),
    );
    check(
        request(label(), &[Email], Transfer::Provision, basis(), -5),
        &granted,
        &[],
        Err(Denial::NoConsent),
    );
    check(
        request(label(), &[Message], Transfer::Provision, basis(), 5),
        &granted,
        &[],
        Err(Denial::CategoryNotCovered("message_content")),
    );
    check(
        request(
            Recipient::Partner("Other".into()),
            &[Email],
            Transfer::Provision,
            basis(),
            5,
        ),
        &granted,
        &[],
        Err(Denial::WrongRecipient),
    );
    check(
        request(label(), &[Email], Transfer::Sale, basis(), 5),
        &granted,
        &[],
        Err(Denial::TransferNotConsented),
    );
    let withdrawn = [
        consent(1, "label-offers", true, 2, 0),
        consent(1, "label-offers", false, 2, 10),
    ];
    check(
        request(label(), &[Email], Transfer::Provision, basis(), 5),
        &withdrawn,
        &[],
        allowed,
    );
    check(
        request(label(), &[Email], Transfer::Provision, basis(), 10),
        &withdrawn,
        &[],
        Err(Denial::NoConsent),
    );
    let old_notice = [consent(1, "label-offers", true, 1, 0)];
    check(
        request(label(), &[Email], Transfer::Provision, basis(), 5),
        &old_notice,
        &[],
        Err(Denial::OutdatedConsent),
    );
    let someone_else = [consent(2, "label-offers", true, 2, 0)];
    check(
        request(label(), &[Email], Transfer::Provision, basis(), 5),
        &someone_else,
        &[],
        Err(Denial::NoConsent),
    );
    check(
        request(
            label(),
            &[Email],
            Transfer::Provision,
            ClaimedBasis::Consent("nope".into()),
            5,
        ),
        &granted,
        &[],
        Err(Denial::UnknownPurpose),
    );
}

#[test]
fn a_sale_needs_consent_to_exactly_that_sale() {
    let broker = || Recipient::Partner("Broker".into());
    let sold = [consent(1, "list-sale", true, 1, 0)];
    let basis = || ClaimedBasis::Consent("list-sale".into());
    check(
        request(broker(), &[Email], Transfer::Sale, basis(), 1),
        &sold,
        &[],
        Ok(Basis::Consent {
            purpose: "list-sale".into(),
            notice_version: 1,
        }),
    );
    check(
        request(broker(), &[Email], Transfer::Exchange, basis(), 1),
        &sold,
        &[],
        Err(Denial::TransferNotConsented),
    );
    check(
        request(
            broker(),
            &[Email],
            Transfer::Sale,
            ClaimedBasis::LegalOrder("LO-1".into()),
            1,
        ),
        &sold,
        &[order(&[1, 2])],
        Err(Denial::TransferNotConsented),
    );
}

#[test]
fn a_legal_order_needs_two_approvals_and_covers_only_its_scope() {
    let court = || Recipient::Authority("Tokyo District Court".into());
    let basis = || ClaimedBasis::LegalOrder("LO-1".into());
    let approved = [order(&[1, 2])];
    check(
        request(
            court(),
            &[Email, Purchases],
            Transfer::Provision,
            basis(),
            1,
        ),
        &[],
        &approved,
        Ok(Basis::LegalOrder("LO-1".into())),
    );
    check(
        request(court(), &[Email], Transfer::Provision, basis(), 1),
        &[],
        &[order(&[1])],
        Err(Denial::NotApproved),
    );
    check(
        request(court(), &[Message], Transfer::Provision, basis(), 1),
        &[],
        &approved,
        Err(Denial::OutOfScope),
    );
    check(
        request(court(), &[Email], Transfer::Provision, basis(), -1),
        &[],
        &approved,
        Err(Denial::OutOfScope),
    );
    check(
        request(
            Recipient::Authority("Osaka".into()),
            &[Email],
            Transfer::Provision,
            basis(),
            1,
        ),
        &[],
        &approved,
        Err(Denial::OutOfScope),
    );
    check(
        request(
            court(),
            &[Email],
            Transfer::Provision,
            ClaimedBasis::LegalOrder("LO-9".into()),
            1,
        ),
        &[],
        &approved,
        Err(Denial::UnknownOrder),
    );
    let mut other = request(court(), &[Email], Transfer::Provision, basis(), 1);
    other.member_id = member(2);
    check(other, &[], &approved, Err(Denial::OutOfScope));
}

#[test]
fn the_ledger_chain_names_the_first_tampered_entry() {
    let mut entries = Vec::new();
    for n in 0..4 {
        let entry = LedgerDraft {
            at: T0 + time::Duration::minutes(n),
            member_id: member(1),
            recipient: Recipient::Processor("stripe".into()),
            recipient_details: RecipientDetails::default(),
            categories: cats(&[Order]),
            basis: Basis::Entrustment("stripe".into()),
            visible_from: T0,
        }
        .chain(entries.last());
        entries.push(entry);
    }
    assert_eq!(first_broken(&entries), None);
    let mut tampered = entries.clone();
    tampered[2].recipient = Recipient::Partner("someone".into());
    assert_eq!(first_broken(&tampered), Some(3));
    let mut moved = entries.clone();
    moved[1].recipient_details.address = "elsewhere".into();
    assert_eq!(
        first_broken(&moved),
        Some(2),
        "the recorded address is sealed too"
    );
    let mut removed = entries.clone();
    removed.remove(1);
    assert_eq!(first_broken(&removed), Some(3));
    let purged_from_the_start = entries[2..].to_vec();
    assert_eq!(
        first_broken(&purged_from_the_start),
        None,
        "retention removes the oldest entries"
    );
    let mut forged_start = entries[2..].to_vec();
    forged_start[0].categories = cats(&[Email]);
    assert_eq!(first_broken(&forged_start), Some(3));
    let mut rehashed = entries.clone();
    rehashed[1].categories = cats(&[Email]);
    rehashed[1].hash = rehashed[1].content_hash();
    assert_eq!(
        first_broken(&rehashed),
        Some(3),
        "re-hashing one entry breaks the next link"
    );
}

fn category() -> impl Strategy<Value = DataCategory> {
    proptest::sample::select(DataCategory::ALL.to_vec())
}

fn arbitrary_request() -> impl Strategy<Value = DisclosureRequest> {
    let recipient = prop_oneof![
        Just(Recipient::Processor("stripe".into())),
        Just(Recipient::Processor("acme".into())),
        Just(Recipient::Partner("Kikeru Label".into())),
        Just(Recipient::Partner("Broker".into())),
        Just(Recipient::Authority("Tokyo District Court".into())),
    ];
    let transfer = prop_oneof![
        Just(Transfer::Provision),
        Just(Transfer::Sale),
        Just(Transfer::Rental),
        Just(Transfer::Exchange)
    ];
    let basis = prop_oneof![
        Just(ClaimedBasis::Entrustment),
        Just(ClaimedBasis::Consent("label-offers".into())),
        Just(ClaimedBasis::Consent("list-sale".into())),
        Just(ClaimedBasis::LegalOrder("LO-1".into())),
    ];
    (
        recipient,
        proptest::collection::btree_set(category(), 0..4),
        transfer,
        basis,
        0i64..100,
        1u128..3,
    )
        .prop_map(
            |(recipient, categories, transfer, basis, minutes, n)| DisclosureRequest {
                member_id: member(n),
                recipient,
                categories,
                transfer,
                basis,
                at: T0 + time::Duration::minutes(minutes),
            },
        )
}

fn arbitrary_history() -> impl Strategy<Value = Vec<ConsentRecord>> {
    let record = (
        1u128..3,
        prop_oneof![Just("label-offers"), Just("list-sale")],
        any::<bool>(),
        1u32..3,
        0i64..100,
    )
        .prop_map(|(n, purpose, granted, version, minutes)| {
            consent(n, purpose, granted, version, minutes)
        });
    proptest::collection::vec(record, 0..8)
}

proptest! {
    #[test]
    fn nothing_is_ever_disclosed_without_a_valid_basis(
        request in arbitrary_request(),
        history in arbitrary_history(),
        approvals in proptest::collection::btree_set(1u128..=3, 0..3),
    ) {
        let processors = processors();
        let purposes = purposes();
        let approvals: Vec<u128> = approvals.into_iter().collect();
        let orders = [order(&approvals)];
        let partners = partners();
        let registers = Registers { processors: &processors, partners: &partners, purposes: &purposes, consents: &history, legal_orders: &orders, stops: &[] };
        match decide(&request, &registers) {
            Ok(Basis::Entrustment(key)) => {
                let processor = processors.iter().find(|p| p.key == key).unwrap();
                prop_assert!(request.categories.is_subset(&processor.categories));
                prop_assert_eq!(request.transfer, Transfer::Provision);
            }
            Ok(Basis::Consent { purpose, notice_version }) => {
                let latest = consent_at(&history, request.member_id, &purpose, request.at).unwrap();
                prop_assert!(latest.granted, "withdrawal is honoured");
                let declared = purposes.iter().find(|p| p.key == purpose).unwrap();
                prop_assert_eq!(notice_version, declared.notice_version);
                prop_assert!(request.categories.is_subset(&declared.categories));
                prop_assert_eq!(request.transfer, declared.transfer);
            }
            Ok(Basis::LegalOrder(_)) => {
                prop_assert!(orders[0].approved_by.len() >= 2);
                prop_assert_eq!(request.transfer, Transfer::Provision);
            }
            Err(_) => {}
        }
        if request.transfer != Transfer::Provision {
            let sold_with_consent = matches!(decide(&request, &registers), Ok(Basis::Consent { .. }));
            prop_assert!(decide(&request, &registers).is_err() || sold_with_consent);
        }
    }

    #[test]
    fn a_withdrawal_ends_consent_for_every_later_decision(
        request in arbitrary_request(),
        history in arbitrary_history(),
        withdrawn_at in 0i64..100,
    ) {
        let ClaimedBasis::Consent(purpose) = request.basis.clone() else { return Ok(()) };
        let mut history = history;
        let mut withdrawal = consent(0, &purpose, false, 2, withdrawn_at);
        withdrawal.member_id = request.member_id;
        // Nothing else happens at or after the withdrawal.
        history.retain(|r| r.at < withdrawal.at || r.member_id != request.member_id || r.purpose != purpose);
        history.push(withdrawal.clone());
        let processors = processors();
        let purposes = purposes();
        let partners = partners();
        let registers = Registers { processors: &processors, partners: &partners, purposes: &purposes, consents: &history, legal_orders: &[], stops: &[] };
        if request.at >= withdrawal.at {
            prop_assert!(decide(&request, &registers).is_err());
        }
    }
}

#[test]
fn a_changed_notice_recipient_or_scope_needs_new_consent() {
    let current = purposes().remove(0);
    assert_eq!(current.next_version(None), 1);
    assert_eq!(
        current.next_version(Some(&current)),
        2,
        "same content keeps the version"
    );
    let mut wider = current.clone();
    wider.categories.insert(Message);
    assert_eq!(wider.next_version(Some(&current)), 3);
    let mut reworded = current.clone();
    reworded.notice = crate::Localized::description("新しい文面", "New wording").unwrap();
    assert_eq!(reworded.next_version(Some(&current)), 3);
}

#[test]
fn recipients_and_bases_round_trip_through_their_text() {
    for r in [
        Recipient::Processor("stripe".into()),
        Recipient::Partner("Kikeru Label".into()),
        Recipient::Authority("東京地方裁判所".into()),
    ] {
        assert_eq!(Recipient::parse(&r.to_string()), Some(r));
    }
    for b in [
        Basis::Entrustment("stripe".into()),
        Basis::Consent {
            purpose: "label-offers".into(),
            notice_version: 12,
        },
        Basis::LegalOrder("LO:1".into()),
    ] {
        assert_eq!(Basis::parse(&b.to_text()), Some(b));
    }
    assert_eq!(Recipient::parse("nobody"), None);
    assert_eq!(Basis::parse("consent:x"), None);
}

#[test]
fn a_partner_must_be_registered_before_it_receives_anything() {
    let processors = processors();
    let purposes = purposes();
    let granted = [consent(1, "label-offers", true, 2, 0)];
    let request = request(
        Recipient::Partner("Kikeru Label".into()),
        &[Email],
        Transfer::Provision,
        ClaimedBasis::Consent("label-offers".into()),
        5,
    );
    let unregistered = Registers {
        processors: &processors,
        partners: &[],
        purposes: &purposes,
        consents: &granted,
        legal_orders: &[],
        stops: &[],
    };
    assert_eq!(decide(&request, &unregistered), Err(Denial::UnknownPartner));
}

#[test]
fn the_ledger_records_who_received_the_data_and_where() {
    let processors = processors();
    let partners = partners();
    let registers = Registers {
        processors: &processors,
        partners: &partners,
        purposes: &[],
        consents: &[],
        legal_orders: &[],
        stops: &[],
    };
    let partner = recipient_details(&Recipient::Partner("Kikeru Label".into()), &registers);
    assert_eq!(partner.name, "Kikeru Label K.K.");
    assert_eq!(partner.address, "東京都千代田区1-1");
    assert_eq!(partner.representative, "山田太郎");
    let processor = recipient_details(&Recipient::Processor("stripe".into()), &registers);
    assert_eq!(processor.name, "Stripe");
    let court = recipient_details(&Recipient::Authority("東京地方裁判所".into()), &registers);
    assert_eq!(court.name, "東京地方裁判所");
}
