//! The books as CSV: the tables of the report for a spreadsheet, and the journal (仕訳) in the
//! shape Japanese accounting software imports.
//!
//! Every file is UTF-8 with CRLF line ends (RFC 4180), a header row, and amounts in yen as
//! plain integers. A text cell that a spreadsheet would run as a formula (starting with `=`,
//! `+`, `-`, `@`, a tab or a carriage return) is prefixed with `'`.

use std::fmt::Write as _;

use super::model::{Books, EntryKind, Figures};

/// Which table of the report a CSV holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// One row per day, month or fiscal year.
    Periods,
    /// One row per tax rate.
    Rates,
    /// One row per product.
    Products,
    /// One row per creator.
    Creators,
}

impl Table {
    /// The table named `periods`, `rates`, `products` or `creators`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "periods" => Some(Self::Periods),
            "rates" => Some(Self::Rates),
            "products" => Some(Self::Products),
            "creators" => Some(Self::Creators),
            _ => None,
        }
    }
}

/// One CSV cell of text, quoted when it must be and defused when a spreadsheet would run it.
fn text(value: &str) -> String {
    let defused = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

fn row(out: &mut String, cells: &[String]) {
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

const FIGURES: &str = "gross,refunds,chargebacks,net,tax,receipts,returns";

fn figures(f: &Figures) -> [String; 7] {
    [
        f.gross.to_string(),
        f.refunds.to_string(),
        f.chargebacks.to_string(),
        f.net.to_string(),
        f.tax.to_string(),
        f.receipts.to_string(),
        f.returns.to_string(),
    ]
}

/// One table of `books` as CSV.
#[must_use]
pub fn csv(books: &Books, table: Table) -> String {
    let mut out = String::new();
    match table {
        Table::Periods => {
            let _ = write!(
                out,
                "{},{FIGURES}\r\n",
                books.grouping.name().replace('-', "_")
            );
            for b in &books.buckets {
                let mut cells = vec![text(&b.label)];
                cells.extend(figures(&b.figures));
                row(&mut out, &cells);
            }
            let mut cells = vec!["total".to_owned()];
            cells.extend(figures(&books.totals));
            row(&mut out, &cells);
        }
        Table::Rates => {
            out.push_str(
                "rate,sales,sales_tax,refunds,refunds_tax,chargebacks,chargebacks_tax,net,net_tax\r\n",
            );
            for r in &books.rates {
                let cells = [
                    i64::from(r.rate),
                    r.sales.inclusive,
                    r.sales.tax,
                    r.refunds.inclusive,
                    r.refunds.tax,
                    r.chargebacks.inclusive,
                    r.chargebacks.tax,
                    r.net.inclusive,
                    r.net.tax,
                ];
                row(&mut out, &cells.map(|n| n.to_string()));
            }
        }
        Table::Products => {
            let _ = write!(out, "sku,title_ja,title_en,quantity,{FIGURES}\r\n");
            for p in &books.products {
                let mut cells = vec![
                    text(&p.sku),
                    text(&p.title_ja),
                    text(&p.title_en),
                    p.quantity.to_string(),
                ];
                cells.extend(figures(&p.figures));
                row(&mut out, &cells);
            }
        }
        Table::Creators => {
            let _ = write!(out, "creator,name_ja,name_en,{FIGURES}\r\n");
            for c in &books.creators {
                let mut cells = vec![
                    text(c.key.as_deref().unwrap_or("")),
                    text(&c.name_ja),
                    text(&c.name_en),
                ];
                cells.extend(figures(&c.figures));
                row(&mut out, &cells);
            }
        }
    }
    out
}

/// The journal's columns, in order.
pub const JOURNAL_COLUMNS: [&str; 10] = [
    "取引日",
    "借方勘定科目",
    "借方税区分",
    "借方金額",
    "借方税額",
    "貸方勘定科目",
    "貸方税区分",
    "貸方金額",
    "貸方税額",
    "摘要",
];

/// The journal of `books` (仕訳帳): one line per document and tax rate, in date order.
///
/// - A sale (receipt): 売掛金 (対象外) to 売上高 (課税売上{rate}%), the tax-inclusive amount and
///   the tax in it; 摘要 `領収書 No.{number}`.
/// - A refund (return invoice): 売上値引高 (課税売上返還{rate}%) to 売掛金 (対象外); 摘要
///   `返還インボイス No.{number} (領収書 No.{receipt})`.
/// - A chargeback: as a refund, with 摘要 beginning `チャージバック`.
///
/// The receivable (売掛金) is the payment provider's, cleared when it pays out.
#[must_use]
pub fn journal(books: &Books) -> String {
    let mut out = String::new();
    row(&mut out, &JOURNAL_COLUMNS.map(str::to_owned));
    for e in &books.entries {
        let day = format!(
            "{:04}/{:02}/{:02}",
            e.day.year(),
            e.day.month() as u8,
            e.day.day()
        );
        let (amount, tax) = (e.amount.to_string(), e.tax.to_string());
        let cells = match e.kind {
            EntryKind::Sale => [
                day,
                "売掛金".to_owned(),
                "対象外".to_owned(),
                amount.clone(),
                "0".to_owned(),
                "売上高".to_owned(),
                format!("課税売上{}%", e.rate),
                amount,
                tax,
                format!("領収書 No.{}", e.number),
            ],
            EntryKind::Refund | EntryKind::Chargeback => [
                day,
                "売上値引高".to_owned(),
                format!("課税売上返還{}%", e.rate),
                amount.clone(),
                tax,
                "売掛金".to_owned(),
                "対象外".to_owned(),
                amount,
                "0".to_owned(),
                format!(
                    "{}返還インボイス No.{} (領収書 No.{})",
                    if e.kind == EntryKind::Chargeback {
                        "チャージバック "
                    } else {
                        ""
                    },
                    e.number,
                    e.receipt_number.unwrap_or_default()
                ),
            ],
        };
        row(&mut out, &cells.map(|c| text(&c)));
    }
    out
}
