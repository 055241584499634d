//! The console's books: a period's sales, refunds and chargebacks over time as a stacked bar
//! chart with its table, the figures per tax rate beneath, by product and by creator, whether
//! the documents reconcile with the orders and payments, and the downloads (the tables as CSV,
//! the journal for accounting software, everything as JSON). Figures only — no member is
//! named — so every operator may read them; each view and download is audited.

use askama::Template;
use kikeru_domain::office::books::render::{Table, csv, journal};
use kikeru_domain::office::books::{Books, Difference, Grouping, Period, Series, iso};
use poem::handler;
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{IntoResponse, Response};
use serde::Deserialize;

use super::audit;
use crate::AppState;
use crate::site::chart::{self, BLUE, Caption, Column, PURPLE, RUST};
use crate::site::extract::ConsoleUser;
use crate::site::{Chrome, OrPage, Page, html};

/// The period and grouping asked for (`from`, `to`: `YYYY-MM-DD`; `by`: day, month,
/// fiscal-year), and for a download its format and table.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct BooksQuery {
    from: String,
    to: String,
    by: String,
    format: String,
    table: String,
}

/// `¥1,100`, `-¥550`.
fn yen(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(d);
    }
    format!("{}¥{grouped}", if amount < 0 { "-" } else { "" })
}

/// The period and grouping of `query`, this fiscal year by month when none is given; an error
/// names the catalogue key of the message.
fn asked(state: &AppState, query: &BooksQuery) -> Result<(Period, Grouping), &'static str> {
    let keeper = &state.services.books;
    let grouping = if query.by.is_empty() {
        Grouping::Month
    } else {
        Grouping::from_name(&query.by).ok_or("console.books_bad_grouping")?
    };
    let period = if query.from.is_empty() && query.to.is_empty() {
        keeper.this_fiscal_year()
    } else {
        Period::parse(&query.from, &query.to).map_err(|_| "console.books_bad_period")?
    };
    Ok((period, grouping))
}

fn describe(c: &Chrome, d: &Difference) -> String {
    let series = |s: &Series| match s {
        Series::Receipt => c.t("console.books_receipt"),
        Series::ReturnInvoice => c.t("console.books_return_invoice"),
    };
    match d {
        Difference::NoReceipt { order } => format!("{}: {order}", c.t("console.books_no_receipt")),
        Difference::NoReturnInvoice { order, case } => format!(
            "{}: {order} {}",
            c.t("console.books_no_return_invoice"),
            case.as_deref().unwrap_or("")
        ),
        Difference::MissingNumber { series: s, number } => {
            format!(
                "{}: {} No.{number}",
                c.t("console.books_missing_number"),
                series(s)
            )
        }
        Difference::Total {
            series: s,
            number,
            recorded,
            documented,
        } => format!(
            "{}: {} No.{number} {} / {}",
            c.t("console.books_total_differs"),
            series(s),
            yen(*documented),
            yen(*recorded)
        ),
        Difference::Books {
            series: s,
            books,
            documents,
        } => format!(
            "{}: {} {} / {}",
            c.t("console.books_sum_differs"),
            series(s),
            yen(*books),
            yen(*documents)
        ),
    }
}

#[derive(Template)]
#[template(path = "console_books.html")]
struct BooksPage<'a> {
    c: &'a Chrome,
    from: String,
    to: String,
    by: &'static str,
    groupings: [(&'static str, &'static str); 3],
    query: String,
    error: Option<&'static str>,
    checked: String,
    differences: Vec<String>,
    chart: String,
    /// Row, gross, refunds, chargebacks, net, tax.
    rows: Vec<(String, String, String, String, String, String)>,
    total: (String, String, String, String, String),
    /// Rate, sales, tax, returns, tax, net, tax.
    rates: Vec<(u32, String, String, String, String, String, String)>,
    /// SKU, title, quantity, gross, returns, net.
    products: Vec<(String, String, u32, String, String, String)>,
    /// Creator, gross, returns, net.
    creators: Vec<(String, String, String, String)>,
}

const GROUPINGS: [(&str, &str); 3] = [
    ("day", "console.books_by_day"),
    ("month", "console.books_by_month"),
    ("fiscal-year", "console.books_by_fiscal_year"),
];

fn chart_of(c: &Chrome, books: &Books) -> String {
    let columns: Vec<Column> = books
        .buckets
        .iter()
        .map(|b| Column {
            label: b.label.clone(),
            values: vec![b.figures.net, b.figures.refunds, b.figures.chargebacks],
        })
        .collect();
    chart::stacked(
        &Caption {
            id: "books-chart",
            title: c.t("console.books_over_time"),
            desc: c.t("console.books_chart_desc"),
        },
        &[
            (c.t("console.books_net"), BLUE),
            (c.t("console.books_refunds"), RUST),
            (c.t("console.books_chargebacks"), PURPLE),
        ],
        &columns,
    )
}

/// `GET /admin/books`: the books of the period asked for (this fiscal year by month by default).
#[handler]
pub(crate) async fn books_page(
    state: Data<&AppState>,
    Query(query): Query<BooksQuery>,
    ConsoleUser { who, c }: ConsoleUser,
) -> Page {
    let mut page = BooksPage {
        c: &c,
        from: query.from.clone(),
        to: query.to.clone(),
        by: "month",
        groupings: GROUPINGS,
        query: String::new(),
        error: None,
        checked: String::new(),
        differences: Vec::new(),
        chart: String::new(),
        rows: Vec::new(),
        total: Default::default(),
        rates: Vec::new(),
        products: Vec::new(),
        creators: Vec::new(),
    };
    let (period, grouping) = match asked(&state, &query) {
        Ok(asked) => asked,
        Err(key) => {
            page.error = Some(key);
            return Ok(html(StatusCode::BAD_REQUEST, &c, page.render(), &[]));
        }
    };
    let keeper = &state.services.books;
    let books = keeper
        .books(period, grouping)
        .await
        .or_page(c.lang, "the books could not be read")?;
    let check = keeper
        .verify(period)
        .await
        .or_page(c.lang, "the books could not be reconciled")?;
    audit(
        &state,
        &who,
        "books.viewed",
        &format!(
            "books {}..{} by {} (console)",
            iso(period.from),
            iso(period.to),
            grouping.name()
        ),
    )
    .await;
    page.from = iso(period.from);
    page.to = iso(period.to);
    page.by = grouping.name();
    page.query = format!("from={}&by={}&to={}", page.from, page.by, page.to);
    page.checked = format!(
        "{} {}, {} {}, {} {}",
        check.orders,
        c.t("console.books_orders_checked"),
        check.returns,
        c.t("console.books_returns_checked"),
        check.pending,
        c.t("console.books_pending")
    );
    page.differences = check.differences.iter().map(|d| describe(&c, d)).collect();
    page.chart = chart_of(&c, &books);
    page.rows = books
        .buckets
        .iter()
        .map(|b| {
            let f = &b.figures;
            (
                b.label.clone(),
                yen(f.gross),
                yen(f.refunds),
                yen(f.chargebacks),
                yen(f.net),
                yen(f.tax),
            )
        })
        .collect();
    let t = &books.totals;
    page.total = (
        yen(t.gross),
        yen(t.refunds),
        yen(t.chargebacks),
        yen(t.net),
        yen(t.tax),
    );
    page.rates = books
        .rates
        .iter()
        .map(|r| {
            (
                r.rate,
                yen(r.sales.inclusive),
                yen(r.sales.tax),
                yen(r.refunds.inclusive + r.chargebacks.inclusive),
                yen(r.refunds.tax + r.chargebacks.tax),
                yen(r.net.inclusive),
                yen(r.net.tax),
            )
        })
        .collect();
    let ja = c.lang == kikeru_domain::Language::Ja;
    page.products = books
        .products
        .iter()
        .map(|p| {
            let f = &p.figures;
            (
                p.sku.clone(),
                if ja {
                    p.title_ja.clone()
                } else {
                    p.title_en.clone()
                },
                p.quantity,
                yen(f.gross),
                yen(f.refunds + f.chargebacks),
                yen(f.net),
            )
        })
        .collect();
    page.creators = books
        .creators
        .iter()
        .map(|p| {
            let f = &p.figures;
            let name = match (&p.key, ja) {
                (None, _) => c.t("console.books_no_creator").to_owned(),
                (Some(_), true) => p.name_ja.clone(),
                (Some(_), false) => p.name_en.clone(),
            };
            (
                name,
                yen(f.gross),
                yen(f.refunds + f.chargebacks),
                yen(f.net),
            )
        })
        .collect();
    Ok(html(StatusCode::OK, &c, page.render(), &[]))
}

/// `GET /admin/books/export`: the same books as a download — `format=csv` with `table`
/// (periods, rates, products, creators), `format=journal`, or `format=json`.
#[handler]
pub(crate) async fn books_export(
    state: Data<&AppState>,
    Query(query): Query<BooksQuery>,
    ConsoleUser { who, c }: ConsoleUser,
) -> Page {
    let table = if query.table.is_empty() {
        Some(Table::Periods)
    } else {
        Table::from_name(&query.table)
    };
    let asked = asked(&state, &query);
    let (Ok((period, grouping)), Some(table), "csv" | "journal" | "json") =
        (asked, table, query.format.as_str())
    else {
        return Ok((StatusCode::BAD_REQUEST, c.t("console.books_bad_export")).into_response());
    };
    let books = state
        .services
        .books
        .books(period, grouping)
        .await
        .or_page(c.lang, "the books could not be read")?;
    let (from, to) = (iso(period.from), iso(period.to));
    audit(
        &state,
        &who,
        "books.exported",
        &format!(
            "books {from}..{to} as {} {} (console)",
            query.format, query.table
        ),
    )
    .await;
    let (content_type, name, body) = match query.format.as_str() {
        "json" => (
            "application/json",
            "books.json".to_owned(),
            crate::books_json(&books),
        ),
        "journal" => (
            "text/csv; charset=utf-8",
            "journal.csv".to_owned(),
            journal(&books),
        ),
        _ => (
            "text/csv; charset=utf-8",
            format!(
                "{}.csv",
                if query.table.is_empty() {
                    "periods"
                } else {
                    &query.table
                }
            ),
            csv(&books, table),
        ),
    };
    Ok(Response::builder()
        .content_type(content_type)
        .header(
            "content-disposition",
            format!("attachment; filename=\"kikeru-{from}-{to}-{name}\""),
        )
        .header("cache-control", "no-store")
        .body(body))
}

#[cfg(test)]
mod tests {
    #[test]
    fn yen_groups_thousands_and_keeps_the_sign() {
        assert_eq!(super::yen(0), "¥0");
        assert_eq!(super::yen(1100), "¥1,100");
        assert_eq!(super::yen(-1_234_567), "-¥1,234,567");
    }
}
