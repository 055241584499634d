//! Builders for the records the suites store. Times are whole milliseconds, the precision
//! every adapter must keep.

use kikeru_domain::membership::second_factor::{Assurance, Factor};
use kikeru_domain::ports::Members;
use kikeru_domain::{
    DisplayName, Email, Language, Member, MemberId, OneTimeToken, PasswordHashString,
    SecurityEvent, SecurityEventKind, Session, SessionId, SessionToken, Timestamp, TokenPurpose,
};
use time::macros::datetime;
use uuid::Uuid;

/// The suites' "now".
pub const NOW: Timestamp = datetime!(2026-04-01 09:30:15.123 UTC);

/// A PHC string the adapters store verbatim.
pub const PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";

/// A distinct UUID for `n`.
pub fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n)
}

/// The operator numbered `n` (an ID no member of the fixtures has).
pub fn operator(n: u128) -> kikeru_domain::office::operators::OperatorId {
    kikeru_domain::office::operators::OperatorId::from_uuid(uuid(0x9e7a_0000 + n))
}

/// A member numbered `n` with the address `email`.
///
/// # Panics
/// When `email` is not a valid address (a bug in the suite).
#[allow(clippy::unwrap_used, clippy::missing_panics_doc)]
pub fn member(n: u128, email: &str) -> Member {
    Member {
        id: MemberId::from_uuid(uuid(n)),
        email: Email::parse(email).unwrap(),
        email_verified_at: None,
        password_hash: PasswordHashString::parse(PHC).unwrap(),
        display_name: DisplayName::parse("山田 花子").unwrap(),
        language: Language::Ja,
        created_at: NOW,
    }
}

/// A session numbered `n` of `member`, created `age_secs` seconds before [`NOW`].
pub fn session(n: u128, member: MemberId, age_secs: i64) -> (Session, SessionToken) {
    let token = SessionToken::from_bytes([n as u8; 32]);
    let created = NOW - time::Duration::seconds(age_secs);
    let session = Session {
        id: SessionId::from_uuid(uuid(1000 + n)),
        member_id: member,
        token_hash: token.hash(),
        created_at: created,
        last_seen_at: created,
        expires_at: created + time::Duration::days(30),
        browser: "Firefox 128 / Linux".to_owned(),
        // Even sessions passed a second factor, so that every column is read back.
        assurance: Assurance {
            first: Factor::Password,
            second: n.is_multiple_of(2).then_some(Factor::Totp),
            authenticated_at: created + time::Duration::seconds(5),
        },
        second_factor_enrolled: n.is_multiple_of(2),
    };
    (session, token)
}

/// A token numbered `n` of `member` for `purpose`.
///
/// # Panics
/// Never for the addresses used here.
#[allow(clippy::unwrap_used, clippy::missing_panics_doc)]
pub fn token(n: u8, member: MemberId, purpose: TokenPurpose) -> OneTimeToken {
    OneTimeToken {
        hash: SessionToken::from_bytes([n; 32]).hash(),
        member_id: member,
        purpose,
        new_email: (purpose == TokenPurpose::ChangeEmail)
            .then(|| Email::parse("new.address@example.jp").unwrap()),
        created_at: NOW,
        expires_at: NOW + purpose.lifetime(),
    }
}

/// An audit event numbered `n`, `secs` seconds after [`NOW`].
pub fn event(
    n: u128,
    member: Option<MemberId>,
    secs: i64,
    kind: SecurityEventKind,
) -> SecurityEvent {
    SecurityEvent {
        id: uuid(5000 + n),
        at: NOW + time::Duration::seconds(secs),
        member_id: member,
        session_id: None,
        kind,
    }
}

/// Stores members numbered `ns` (addresses `member<n>@example.jp`), for suites whose records
/// belong to a member: adapters may enforce that the member exists.
///
/// # Panics
/// When the members cannot be stored.
#[allow(clippy::expect_used, clippy::missing_panics_doc)]
pub async fn given_members<S: Members + ?Sized>(port: &S, ns: &[u128]) {
    for n in ns {
        port.insert(&member(*n, &format!("member{n}@example.jp")))
            .await
            .expect("insert member");
    }
}

/// A product numbered `n`, priced `yen` (tax included).
///
/// # Panics
/// Never for the values used here.
#[allow(clippy::unwrap_used, clippy::missing_panics_doc)]
pub fn product(n: u128, yen: i64, active: bool) -> kikeru_domain::Product {
    use kikeru_domain::{AssetKey, Currency, Localized, Money, ProductDraft, ProductId, Sku};
    kikeru_domain::Product {
        id: ProductId::from_uuid(uuid(20_000 + n)),
        draft: ProductDraft {
            sku: Sku::parse(&format!("KK-{n:03}")).unwrap(),
            title: Localized::title(&format!("音の風景 {n}"), &format!("Soundscape {n}")).unwrap(),
            description: Localized::description("説明", "Description").unwrap(),
            price: Money::new(yen, Currency::Jpy).unwrap(),
            active,
            audio: AssetKey::parse(&format!("audio/kk-{n:03}.wav")).unwrap(),
            sample: n
                .is_multiple_of(2)
                .then(|| AssetKey::parse(&format!("samples/kk-{n:03}.wav")).unwrap()),
            reading: None,
            creator: None,
            tags: Vec::new(),
            cover: None,
        },
        created_at: NOW,
        updated_at: NOW,
    }
}

/// A pending order numbered `n` of `member` for `products`, with its open payment.
pub fn order(
    n: u128,
    member: MemberId,
    products: &[&kikeru_domain::Product],
    key: Option<&str>,
) -> (kikeru_domain::Order, kikeru_domain::Payment) {
    use kikeru_domain::{
        Money, Order, OrderId, OrderLine, Payment, PaymentId, PaymentStatus, StatusChange,
    };
    let lines: Vec<OrderLine> = products
        .iter()
        .map(|p| OrderLine {
            product_id: p.id,
            sku: p.draft.sku.clone(),
            title: p.draft.title.clone(),
            unit_price: p.draft.price,
            quantity: 1,
            tax_rate: 10,
        })
        .collect();
    let currency = lines
        .first()
        .map_or(kikeru_domain::Currency::Jpy, |l| l.unit_price.currency());
    let total = lines.iter().fold(Money::zero(currency), |sum, l| {
        sum.checked_add(l.unit_price).unwrap_or(sum)
    });
    let created_at = NOW + time::Duration::seconds(n as i64);
    // Standard-rated, rounded down once: what the shop would snapshot.
    let tax = total.minor() * 10 / 110;
    let order = Order {
        id: OrderId::from_uuid(uuid(30_000 + n)),
        member_id: member,
        lines,
        total,
        taxes: vec![kikeru_domain::shop::tax::RateTotal {
            rate: 10,
            inclusive: total.minor(),
            tax,
            exclusive: total.minor() - tax,
        }],
        status: PaymentStatus::Open,
        idempotency_key: key.map(str::to_owned),
        created_at,
        paid_at: None,
    };
    let payment = Payment {
        id: PaymentId::from_uuid(uuid(40_000 + n)),
        order_id: order.id,
        member_id: member,
        provider: "sandbox".to_owned(),
        reference: None,
        checkout_url: None,
        payment_ref: None,
        amount: total,
        status: PaymentStatus::Open,
        cases: Vec::new(),
        history: vec![StatusChange {
            status: PaymentStatus::Open,
            at: created_at,
            event_id: None,
        }],
        created_at,
    };
    (order, payment)
}

/// A provider event about checkout `reference`.
pub fn payment_event(
    id: &str,
    reference: &str,
    signal: kikeru_domain::PaymentSignal,
) -> kikeru_domain::PaymentEvent {
    kikeru_domain::PaymentEvent {
        event_id: id.to_owned(),
        provider: "sandbox".to_owned(),
        reference: reference.to_owned(),
        payment_ref: None,
        news: signal.into(),
    }
}

/// A provider event reporting `case` of the payment `reference`.
pub fn case_event(
    id: &str,
    reference: &str,
    case: kikeru_domain::Case,
) -> kikeru_domain::PaymentEvent {
    kikeru_domain::PaymentEvent {
        event_id: id.to_owned(),
        provider: "sandbox".to_owned(),
        reference: reference.to_owned(),
        payment_ref: None,
        news: kikeru_domain::News::Case(case),
    }
}

/// A refund of `yen` in `state`, the provider's refund `reference`.
///
/// # Panics
/// Never.
#[allow(clippy::unwrap_used, clippy::missing_panics_doc)]
pub fn refund_case(
    reference: &str,
    state: kikeru_domain::RefundState,
    yen: i64,
) -> kikeru_domain::Case {
    kikeru_domain::Case {
        reference: reference.to_owned(),
        state: kikeru_domain::CaseState::Refund(state),
        amount: kikeru_domain::Money::new(yen, kikeru_domain::Currency::Jpy).unwrap(),
        reason: None,
        respond_by: None,
    }
}

/// A dispute of ¥1,100 in `state`, the provider's dispute `reference`, to be answered by the
/// end of 2026-12-20.
///
/// # Panics
/// Never.
#[allow(clippy::unwrap_used, clippy::missing_panics_doc)]
pub fn dispute_case(reference: &str, state: kikeru_domain::DisputeState) -> kikeru_domain::Case {
    kikeru_domain::Case {
        reference: reference.to_owned(),
        state: kikeru_domain::CaseState::Dispute(state),
        amount: kikeru_domain::Money::new(1100, kikeru_domain::Currency::Jpy).unwrap(),
        reason: Some("fraudulent".to_owned()),
        respond_by: Some(time::macros::datetime!(2026-12-20 23:59:59 UTC)),
    }
}
