//! The books' figures, journal and reconciliation on documents made by hand.

use time::Month;
use time::macros::{date, datetime};

use super::check::{Numbers, PaidOrder, Records, SettledReturn};
use super::render::{Table, csv, journal};
use super::*;
use crate::shop::receipt::{Receipt, ReceiptDraft, ReceiptLine, ReturnDraft, ReturnInvoice};
use crate::shop::tax::RateTotal;
use crate::{Creator, Currency, MemberId, OrderId, Timestamp};

fn order(n: u128) -> OrderId {
    OrderId::from_uuid(uuid::Uuid::from_u128(n))
}

fn line(title: &str, price: i64) -> ReceiptLine {
    ReceiptLine {
        title_ja: format!("{title}（日本語）"),
        title_en: title.to_owned(),
        unit_price: price,
        quantity: 1,
        rate: 10,
    }
}

fn rate(inclusive: i64, tax: i64) -> RateTotal {
    RateTotal {
        rate: 10,
        inclusive,
        tax,
        exclusive: inclusive - tax,
    }
}

fn item(sku: &str, creator: Option<&str>) -> Item {
    Item {
        sku: sku.to_owned(),
        creator: creator
            .map(|key| Creator::new(key, &format!("{key}（作者）"), key).expect("creator")),
    }
}

fn sale(number: u64, id: u128, paid_at: Timestamp, lines: Vec<ReceiptLine>, tax: i64) -> Sale {
    let total = lines.iter().map(|l| l.unit_price).sum();
    let items = lines
        .iter()
        .map(|l| item(&l.title_en.to_lowercase(), Some("sato")))
        .collect();
    Sale {
        receipt: Receipt {
            number,
            content: ReceiptDraft {
                order_id: order(id),
                member_id: MemberId::from_uuid(uuid::Uuid::from_u128(9)),
                issued_at: paid_at,
                paid_at,
                currency: Currency::Jpy,
                lines,
                per_rate: vec![rate(total, tax)],
                total,
                issuer: "みんな聞ける".into(),
                registration_number: None,
                recipient: None,
                reissues: 0,
            },
        },
        items,
    }
}

fn give_back(
    number: u64,
    of: &Sale,
    at: Timestamp,
    amount: i64,
    tax: i64,
    kind: ReturnKind,
) -> Return {
    let sold = &of.receipt.content;
    Return {
        invoice: ReturnInvoice {
            number,
            content: ReturnDraft {
                receipt_number: of.receipt.number,
                order_id: sold.order_id,
                member_id: sold.member_id,
                issued_at: at,
                refunded_at: at,
                paid_at: sold.paid_at,
                currency: Currency::Jpy,
                lines: sold.lines.clone(),
                per_rate: vec![rate(amount, tax)],
                total: amount,
                issuer: sold.issuer.clone(),
                registration_number: None,
                case: Some(format!("case-{number}")),
            },
        },
        kind,
        items: of.items.clone(),
    }
}

/// Three sales at 10% in April and May 2026 (one on 1 April just after midnight Japan time,
/// which is still 31 March in UTC), a partial refund and a chargeback.
fn april_and_may() -> (Vec<Sale>, Vec<Return>) {
    let a = sale(
        1,
        1,
        datetime!(2026-03-31 15:30 UTC),
        vec![line("Rain", 1100)],
        100,
    );
    let b = sale(
        2,
        2,
        datetime!(2026-04-20 03:00 UTC),
        vec![line("Rain", 1100), line("Sea", 2200)],
        300,
    );
    let c = sale(
        3,
        3,
        datetime!(2026-05-02 03:00 UTC),
        vec![line("Sea", 2200)],
        200,
    );
    let refund = give_back(
        1,
        &b,
        datetime!(2026-05-10 03:00 UTC),
        1650,
        150,
        ReturnKind::Refund,
    );
    let chargeback = give_back(
        2,
        &c,
        datetime!(2026-05-20 03:00 UTC),
        2200,
        200,
        ReturnKind::Chargeback,
    );
    (vec![a, b, c], vec![refund, chargeback])
}

#[test]
fn the_books_add_the_receipts_and_take_away_the_return_invoices() {
    let (sales, returns) = april_and_may();
    let period = Period::parse("2026-04-01", "2027-03-31").expect("period");
    let books = Books::of(period, Grouping::Month, Month::April, &sales, &returns);
    assert_eq!(books.totals.gross, 1100 + 3300 + 2200);
    assert_eq!(books.totals.refunds, 1650);
    assert_eq!(books.totals.chargebacks, 2200);
    assert_eq!(books.totals.net, 6600 - 1650 - 2200);
    assert_eq!(books.totals.tax, 600 - 150 - 200);
    assert_eq!((books.totals.receipts, books.totals.returns), (3, 2));
    let months: Vec<(&str, i64, i64)> = books
        .buckets
        .iter()
        .map(|b| (b.label.as_str(), b.figures.gross, b.figures.net))
        .collect();
    assert_eq!(
        months,
        vec![("2026-04", 4400, 4400), ("2026-05", 2200, 2200 - 3850)]
    );
    let ten = books.rates.first().expect("10%");
    assert_eq!(
        (ten.rate, ten.sales.inclusive, ten.sales.tax),
        (10, 6600, 600)
    );
    assert_eq!((ten.refunds.inclusive, ten.refunds.tax), (1650, 150));
    assert_eq!(
        (ten.chargebacks.inclusive, ten.chargebacks.tax),
        (2200, 200)
    );
    assert_eq!((ten.net.inclusive, ten.net.tax), (2750, 250));
}

#[test]
fn a_partial_return_is_spread_over_the_lines_and_products_add_up_to_the_totals() {
    let (sales, returns) = april_and_may();
    let period = Period::parse("2026-04-01", "2026-05-31").expect("period");
    let books = Books::of(period, Grouping::Day, Month::April, &sales, &returns);
    let rain = books
        .products
        .iter()
        .find(|p| p.sku == "rain")
        .expect("rain");
    let sea = books.products.iter().find(|p| p.sku == "sea").expect("sea");
    // The refund of 1,650 on a 1,100 + 2,200 sale: 550 of Rain, 1,100 of Sea.
    assert_eq!(
        (rain.quantity, rain.figures.gross, rain.figures.refunds),
        (2, 2200, 550)
    );
    assert_eq!((sea.figures.refunds, sea.figures.chargebacks), (1100, 2200));
    let net: i64 = books.products.iter().map(|p| p.figures.net).sum();
    let tax: i64 = books.products.iter().map(|p| p.figures.tax).sum();
    assert_eq!((net, tax), (books.totals.net, books.totals.tax));
    let creator = books.creators.first().expect("one creator");
    assert_eq!(creator.key.as_deref(), Some("sato"));
    assert_eq!(
        creator.figures,
        Figures {
            receipts: 0,
            returns: 0,
            ..books.totals
        }
    );
    assert_eq!(
        books.buckets.first().map(|b| b.label.as_str()),
        Some("2026-04-01")
    );
}

#[test]
fn documents_outside_the_period_in_japan_time_are_left_out() {
    let (sales, returns) = april_and_may();
    let march = Period::parse("2026-03-01", "2026-03-31").expect("period");
    let books = Books::of(march, Grouping::FiscalYear, Month::April, &sales, &returns);
    assert_eq!(books.totals, Figures::default());
    let year = Period::parse("2025-04-01", "2027-03-31").expect("period");
    let books = Books::of(year, Grouping::FiscalYear, Month::April, &sales, &returns);
    let labels: Vec<&str> = books.buckets.iter().map(|b| b.label.as_str()).collect();
    assert_eq!(labels, vec!["FY2026"]);
}

#[test]
fn periods_are_checked_and_fiscal_years_start_in_their_month() {
    assert_eq!(
        Period::parse("2026-04-01", "2026-03-31"),
        Err(PeriodError::Backwards)
    );
    assert!(matches!(
        Period::parse("2026-4-1", "2026-05-01"),
        Err(PeriodError::Date(_))
    ));
    assert_eq!(
        Period::parse("2000-01-01", "2026-01-01"),
        Err(PeriodError::TooLong)
    );
    let fy = Period::fiscal_year(date!(2027 - 02 - 10), Month::April);
    assert_eq!(
        (fy.from, fy.to),
        (date!(2026 - 04 - 01), date!(2027 - 03 - 31))
    );
    let calendar = Period::fiscal_year(date!(2027 - 02 - 10), Month::January);
    assert_eq!(
        (calendar.from, calendar.to),
        (date!(2027 - 01 - 01), date!(2027 - 12 - 31))
    );
    assert_eq!(fy.start(), datetime!(2026-03-31 15:00 UTC));
    assert_eq!(fy.end(), datetime!(2027-03-31 15:00 UTC));
}

#[test]
fn the_journal_has_a_line_per_document_and_rate_with_its_number() {
    let (sales, returns) = april_and_may();
    let period = Period::parse("2026-04-01", "2026-05-31").expect("period");
    let books = Books::of(period, Grouping::Month, Month::April, &sales, &returns);
    let text = journal(&books);
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 1 + 5);
    assert!(lines[0].starts_with("取引日,借方勘定科目,借方税区分"));
    assert_eq!(
        lines[1],
        "2026/04/01,売掛金,対象外,1100,0,売上高,課税売上10%,1100,100,領収書 No.1"
    );
    assert_eq!(
        lines[5],
        "2026/05/20,売上値引高,課税売上返還10%,2200,200,売掛金,対象外,2200,0,チャージバック 返還インボイス No.2 (領収書 No.3)"
    );
}

#[test]
fn csv_cells_are_quoted_and_formulas_defused() {
    let (mut sales, returns) = april_and_may();
    sales[2].receipt.content.lines[0].title_en = "=HYPERLINK(\"x\"), y".into();
    let period = Period::parse("2026-04-01", "2026-05-31").expect("period");
    let books = Books::of(period, Grouping::Month, Month::April, &sales, &returns);
    let products = csv(&books, Table::Products);
    assert!(
        products.contains(",\"'=HYPERLINK(\"\"x\"\"), y\","),
        "{products}"
    );
    let periods = csv(&books, Table::Periods);
    assert!(periods.starts_with("month,gross,refunds"));
    assert!(
        periods.ends_with("total,6600,1650,2200,2750,250,3,2\r\n"),
        "{periods}"
    );
    assert!(csv(&books, Table::Rates).contains("\r\n10,6600,600,1650,150,2200,200,2750,250\r\n"));
}

fn records_of(sales: &[Sale], returns: &[Return]) -> Records {
    Records {
        paid: sales
            .iter()
            .map(|s| PaidOrder {
                order_id: s.receipt.content.order_id,
                paid_at: s.receipt.content.paid_at,
                total: s.receipt.content.total,
                receipt: Some((s.receipt.number, s.receipt.content.total)),
            })
            .collect(),
        returned: returns
            .iter()
            .map(|r| SettledReturn {
                order_id: r.invoice.content.order_id,
                case: r.invoice.content.case.clone(),
                kind: r.kind,
                amount: r.invoice.content.total,
                at: r.invoice.content.refunded_at,
                invoice: Some((r.invoice.number, r.invoice.content.total)),
            })
            .collect(),
        receipts: Numbers {
            last: 3,
            held: vec![1, 2, 3],
        },
        returns: Numbers {
            last: 2,
            held: vec![1, 2],
        },
    }
}

#[test]
fn reconciliation_holds_when_every_order_has_its_document_and_reports_each_difference() {
    let (sales, returns) = april_and_may();
    let period = Period::parse("2026-03-01", "2026-06-30").expect("period");
    let books = Books::of(period, Grouping::Month, Month::April, &sales, &returns);
    let now = datetime!(2026-07-01 00:00 UTC);
    let records = records_of(&sales, &returns);
    let check = reconcile(&books, &records, now);
    assert!(check.holds(), "{:?}", check.differences);
    assert_eq!((check.orders, check.returns, check.pending), (3, 2, 0));

    // Receipt 2 removed by hand: its order has none, its number is missing, the totals differ.
    let mut without: Vec<Sale> = sales.clone();
    without.remove(1);
    let books = Books::of(period, Grouping::Month, Month::April, &without, &returns);
    let mut records = records_of(&sales, &returns);
    records.paid[1].receipt = None;
    records.receipts.held = vec![1, 3];
    let check = reconcile(&books, &records, now);
    assert!(!check.holds());
    assert!(
        check
            .differences
            .contains(&Difference::NoReceipt { order: order(2) })
    );
    assert!(check.differences.contains(&Difference::MissingNumber {
        series: Series::Receipt,
        number: 2
    }));

    // A return invoice of another amount than the refund, and a refund with none.
    let books = Books::of(period, Grouping::Month, Month::April, &sales, &returns);
    let mut records = records_of(&sales, &returns);
    records.returned[0].amount = 1600;
    records.returned[1].invoice = None;
    let check = reconcile(&books, &records, now);
    assert!(check.differences.contains(&Difference::Total {
        series: Series::ReturnInvoice,
        number: 1,
        recorded: 1600,
        documented: 1650,
    }));
    assert!(check.differences.contains(&Difference::NoReturnInvoice {
        order: order(3),
        case: Some("case-2".into()),
    }));
    assert!(check.differences.contains(&Difference::Books {
        series: Series::ReturnInvoice,
        books: 3850,
        documents: 1650,
    }));
}

#[test]
fn a_receipt_not_yet_issued_for_a_fresh_payment_is_pending_not_missing() {
    let (sales, returns) = april_and_may();
    let period = Period::parse("2026-03-01", "2026-06-30").expect("period");
    let books = Books::of(
        period,
        Grouping::Month,
        Month::April,
        &sales[..2],
        &returns[..0],
    );
    let mut records = records_of(&sales, &[]);
    records.paid[2].receipt = None;
    records.receipts.held = vec![1, 2];
    records.receipts.last = 2;
    records.returns = Numbers::default();
    let check = reconcile(&books, &records, datetime!(2026-05-02 03:05 UTC));
    assert!(check.holds(), "{:?}", check.differences);
    assert_eq!(check.pending, 1);
    let later = reconcile(&books, &records, datetime!(2026-05-02 04:00 UTC));
    assert_eq!(
        later.differences,
        vec![Difference::NoReceipt { order: order(3) }]
    );
}

#[test]
fn missing_numbers_are_those_between_the_oldest_held_and_the_last_taken() {
    let numbers = Numbers {
        last: 7,
        held: vec![3, 4, 6],
    };
    assert_eq!(numbers.missing(), vec![5, 7]);
    assert_eq!(
        Numbers {
            last: 4,
            held: vec![]
        }
        .missing(),
        Vec::<u64>::new()
    );
}
