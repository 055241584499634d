//! The books' figures (pure): what a period sold, returned and owes in tax, summed from the
//! receipts and return invoices exactly as members received them, and the reconciliation of
//! those documents with the orders and payments they record.

use std::collections::BTreeMap;

use serde::Serialize;
use time::{Date, Month, Time, UtcOffset};

use crate::shop::receipt::{Receipt, ReceiptLine, ReturnInvoice};
use crate::{Creator, Timestamp};

/// Japan time: a sale belongs to the day (and month, and fiscal year) it was paid there.
pub const JAPAN: UtcOffset = time::macros::offset!(+9);

/// The longest period one report covers (about ten years): enough for any return or audit,
/// and a bound on the work a request can ask for.
pub const LONGEST_PERIOD_DAYS: i64 = 3_700;

/// A period of whole days in Japan time, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    /// The first day.
    #[serde(serialize_with = "iso_date")]
    pub from: Date,
    /// The last day.
    #[serde(serialize_with = "iso_date")]
    pub to: Date,
}

/// Why a period is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// A date that is not `YYYY-MM-DD`.
    #[error("a date must be written YYYY-MM-DD: {0:?}")]
    Date(String),
    /// The end before the start.
    #[error("the period ends before it starts")]
    Backwards,
    /// Longer than [`LONGEST_PERIOD_DAYS`].
    #[error("a period is at most {LONGEST_PERIOD_DAYS} days")]
    TooLong,
}

impl Period {
    /// The days from `from` to `to`, both included.
    ///
    /// # Errors
    /// [`PeriodError`] when `to` is before `from` or the period is too long.
    pub fn new(from: Date, to: Date) -> Result<Self, PeriodError> {
        if to < from {
            return Err(PeriodError::Backwards);
        }
        if (to - from).whole_days() >= LONGEST_PERIOD_DAYS {
            return Err(PeriodError::TooLong);
        }
        Ok(Self { from, to })
    }

    /// The period between two `YYYY-MM-DD` dates, both included.
    ///
    /// # Errors
    /// [`PeriodError`] for a date that does not parse, or as [`Period::new`].
    pub fn parse(from: &str, to: &str) -> Result<Self, PeriodError> {
        Self::new(parse_date(from)?, parse_date(to)?)
    }

    /// The fiscal year that contains `day`, for years starting in `start`.
    #[must_use]
    pub fn fiscal_year(day: Date, start: Month) -> Self {
        let year = if day.month() as u8 >= start as u8 {
            day.year()
        } else {
            day.year() - 1
        };
        let from = Date::from_calendar_date(year, start, 1).unwrap_or(day);
        let next = Date::from_calendar_date(year + 1, start, 1).unwrap_or(day);
        Self {
            from,
            to: next.previous_day().unwrap_or(next),
        }
    }

    /// The first instant of the period.
    #[must_use]
    pub fn start(&self) -> Timestamp {
        self.from.with_time(Time::MIDNIGHT).assume_offset(JAPAN)
    }

    /// The first instant after the period.
    #[must_use]
    pub fn end(&self) -> Timestamp {
        self.to
            .next_day()
            .unwrap_or(self.to)
            .with_time(Time::MIDNIGHT)
            .assume_offset(JAPAN)
    }

    /// Whether `at` falls in the period.
    #[must_use]
    pub fn holds(&self, at: Timestamp) -> bool {
        at >= self.start() && at < self.end()
    }
}

fn parse_date(text: &str) -> Result<Date, PeriodError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), &format)
        .map_err(|_| PeriodError::Date(text.chars().take(40).collect()))
}

/// `YYYY-MM-DD`.
#[must_use]
pub fn iso(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        day.month() as u8,
        day.day()
    )
}

fn iso_date<S: serde::Serializer>(day: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&iso(day.to_owned()))
}

/// The day of `at` in Japan.
#[must_use]
pub fn japan_day(at: Timestamp) -> Date {
    at.to_offset(JAPAN).date()
}

/// How the figures are grouped over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    /// One row per day.
    Day,
    /// One row per calendar month.
    Month,
    /// One row per fiscal year.
    FiscalYear,
}

impl Grouping {
    /// The grouping named `day`, `month` or `fiscal-year`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "day" => Some(Self::Day),
            "month" => Some(Self::Month),
            "fiscal-year" | "fiscal_year" | "year" => Some(Self::FiscalYear),
            _ => None,
        }
    }

    /// The name [`Grouping::from_name`] reads.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Month => "month",
            Self::FiscalYear => "fiscal-year",
        }
    }

    /// The label of the row `day` falls in (`2026-04-01`, `2026-04`, `FY2026`), for fiscal
    /// years starting in `start`; labels sort in time order.
    #[must_use]
    pub fn label(self, day: Date, start: Month) -> String {
        match self {
            Self::Day => iso(day),
            Self::Month => format!("{:04}-{:02}", day.year(), day.month() as u8),
            Self::FiscalYear => format!("FY{}", Period::fiscal_year(day, start).from.year()),
        }
    }
}

/// What the books know of one receipt line beyond the receipt: the product's SKU then and its
/// creator (as the catalogue names them now), for the figures by product and by creator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The SKU the line was sold under.
    pub sku: String,
    /// The product's creator, when it has one.
    pub creator: Option<Creator>,
}

/// A sale: its receipt, and an [`Item`] for each of the receipt's lines, in their order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sale {
    /// The receipt.
    pub receipt: Receipt,
    /// One per receipt line.
    pub items: Vec<Item>,
}

/// What a return was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnKind {
    /// The shop refunded.
    Refund,
    /// The card holder's bank took the money back (a lost dispute, チャージバック).
    Chargeback,
}

/// A return: its return invoice, its kind, and an [`Item`] for each of the invoice's lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Return {
    /// The return invoice.
    pub invoice: ReturnInvoice,
    /// Refund or chargeback.
    pub kind: ReturnKind,
    /// One per invoice line.
    pub items: Vec<Item>,
}

/// Sums in minor units (yen).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// Tax-inclusive sales (the receipts).
    pub gross: i64,
    /// Tax-inclusive refunds (return invoices of refunds).
    pub refunds: i64,
    /// Tax-inclusive chargebacks (return invoices of lost disputes).
    pub chargebacks: i64,
    /// Gross less refunds and chargebacks.
    pub net: i64,
    /// The consumption tax in the net: the receipts' tax less the return invoices'.
    pub tax: i64,
    /// How many receipts.
    pub receipts: u32,
    /// How many return invoices.
    pub returns: u32,
}

impl Figures {
    fn sell(&mut self, amount: i64, tax: i64) {
        self.gross += amount;
        self.net += amount;
        self.tax += tax;
    }

    fn give_back(&mut self, kind: ReturnKind, amount: i64, tax: i64) {
        match kind {
            ReturnKind::Refund => self.refunds += amount,
            ReturnKind::Chargeback => self.chargebacks += amount,
        }
        self.net -= amount;
        self.tax -= tax;
    }
}

/// Tax-inclusive amount and the tax in it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Taxed {
    /// Tax-inclusive.
    pub inclusive: i64,
    /// The tax in it.
    pub tax: i64,
}

/// The figures at one tax rate: what a 消費税 return asks for, per rate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RateFigures {
    /// The rate, in percent.
    pub rate: u32,
    /// Sales at this rate.
    pub sales: Taxed,
    /// Refunds at this rate.
    pub refunds: Taxed,
    /// Chargebacks at this rate.
    pub chargebacks: Taxed,
    /// Sales less refunds and chargebacks.
    pub net: Taxed,
}

/// One row over time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bucket {
    /// `2026-04-01`, `2026-04` or `FY2026`.
    pub label: String,
    /// Its figures.
    pub figures: Figures,
}

/// One product's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductFigures {
    /// The SKU it was sold under.
    pub sku: String,
    /// The Japanese title on its latest receipt in the period.
    pub title_ja: String,
    /// The English title.
    pub title_en: String,
    /// How many were sold.
    pub quantity: u32,
    /// Its figures (tax-inclusive; returns apportioned over a document's lines).
    pub figures: Figures,
}

/// One creator's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatorFigures {
    /// The creator's key; `None` for pieces with no creator.
    pub key: Option<String>,
    /// The name in Japanese (empty for pieces with no creator).
    pub name_ja: String,
    /// The name in English.
    pub name_en: String,
    /// Their pieces' figures.
    pub figures: Figures,
}

/// One line of a journal (仕訳): a document's amount at one rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The day of the transaction (Japan time).
    #[serde(serialize_with = "iso_date")]
    pub day: Date,
    /// Sale, refund or chargeback.
    pub kind: EntryKind,
    /// The receipt's or return invoice's number.
    pub number: u64,
    /// For a return, the receipt of the sale.
    pub receipt_number: Option<u64>,
    /// The rate, in percent.
    pub rate: u32,
    /// Tax-inclusive.
    pub amount: i64,
    /// The tax in it.
    pub tax: i64,
}

/// What a journal line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A sale (receipt).
    Sale,
    /// A refund (return invoice).
    Refund,
    /// A chargeback (return invoice).
    Chargeback,
}

/// The books of a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Books {
    /// The period.
    pub period: Period,
    /// How [`Books::buckets`] are grouped.
    pub grouping: Grouping,
    /// The whole period.
    pub totals: Figures,
    /// Per tax rate, the highest first.
    pub rates: Vec<RateFigures>,
    /// Over time, oldest first (rows with nothing in them are left out).
    pub buckets: Vec<Bucket>,
    /// By product, the highest net first.
    pub products: Vec<ProductFigures>,
    /// By creator, the highest net first.
    pub creators: Vec<CreatorFigures>,
    /// The journal: one line per document and rate, in date order.
    pub entries: Vec<Entry>,
}

/// Splits `total` over `weights` in proportion (the last share takes the remainder).
fn apportion(total: i64, weights: &[i64]) -> Vec<i64> {
    let whole: i64 = weights.iter().sum();
    let mut shares = Vec::with_capacity(weights.len());
    let mut given = 0;
    for (i, w) in weights.iter().enumerate() {
        let share = if i + 1 == weights.len() {
            total - given
        } else if whole == 0 {
            0
        } else {
            i64::try_from(i128::from(total) * i128::from(*w) / i128::from(whole)).unwrap_or(0)
        };
        given += share;
        shares.push(share);
    }
    shares
}

fn line_amount(line: &ReceiptLine) -> i64 {
    line.unit_price.saturating_mul(i64::from(line.quantity))
}

#[derive(Default)]
struct Tally {
    totals: Figures,
    rates: BTreeMap<u32, RateFigures>,
    buckets: BTreeMap<String, Figures>,
    products: BTreeMap<String, ProductFigures>,
    creators: BTreeMap<Option<String>, CreatorFigures>,
    entries: Vec<Entry>,
}

impl Tally {
    /// The figures of `line`'s product; a sale names it as sold (the latest sale's title).
    fn product(
        &mut self,
        item: Option<&Item>,
        line: &ReceiptLine,
        sold: bool,
    ) -> &mut ProductFigures {
        let sku = item.map_or_else(|| line.title_en.clone(), |i| i.sku.clone());
        let entry = self
            .products
            .entry(sku.clone())
            .or_insert_with(|| ProductFigures {
                sku,
                title_ja: String::new(),
                title_en: String::new(),
                quantity: 0,
                figures: Figures::default(),
            });
        if sold || entry.title_en.is_empty() {
            entry.title_ja.clone_from(&line.title_ja);
            entry.title_en.clone_from(&line.title_en);
        }
        entry
    }

    fn creator(&mut self, item: Option<&Item>) -> &mut CreatorFigures {
        let creator = item.and_then(|i| i.creator.as_ref());
        let key = creator.map(|c| c.key.as_str().to_owned());
        self.creators
            .entry(key.clone())
            .or_insert_with(|| CreatorFigures {
                key,
                name_ja: creator.map(|c| c.name.ja().to_owned()).unwrap_or_default(),
                name_en: creator.map(|c| c.name.en().to_owned()).unwrap_or_default(),
                figures: Figures::default(),
            })
    }

    fn sale(&mut self, sale: &Sale, label: String) {
        let content = &sale.receipt.content;
        let bucket = self.buckets.entry(label).or_default();
        bucket.receipts += 1;
        self.totals.receipts += 1;
        for rate in &content.per_rate {
            self.totals.sell(rate.inclusive, rate.tax);
            bucket.sell(rate.inclusive, rate.tax);
            let figures = self.rates.entry(rate.rate).or_default();
            figures.rate = rate.rate;
            figures.sales.inclusive += rate.inclusive;
            figures.sales.tax += rate.tax;
            figures.net.inclusive += rate.inclusive;
            figures.net.tax += rate.tax;
            self.entries.push(Entry {
                day: japan_day(content.paid_at),
                kind: EntryKind::Sale,
                number: sale.receipt.number,
                receipt_number: None,
                rate: rate.rate,
                amount: rate.inclusive,
                tax: rate.tax,
            });
        }
        // The tax of a line is its rate's tax apportioned by amount.
        let taxes = line_taxes(&content.lines, &content.per_rate);
        for (i, line) in content.lines.iter().enumerate() {
            let item = sale.items.get(i);
            let (amount, tax) = (line_amount(line), taxes[i]);
            let product = self.product(item, line, true);
            product.quantity += line.quantity;
            product.figures.receipts += 1;
            product.figures.sell(amount, tax);
            self.creator(item).figures.sell(amount, tax);
        }
    }

    fn give_back(&mut self, returned: &Return, label: String) {
        let content = &returned.invoice.content;
        let kind = returned.kind;
        let bucket = self.buckets.entry(label).or_default();
        bucket.returns += 1;
        self.totals.returns += 1;
        for rate in &content.per_rate {
            self.totals.give_back(kind, rate.inclusive, rate.tax);
            bucket.give_back(kind, rate.inclusive, rate.tax);
            let figures = self.rates.entry(rate.rate).or_default();
            figures.rate = rate.rate;
            let side = match kind {
                ReturnKind::Refund => &mut figures.refunds,
                ReturnKind::Chargeback => &mut figures.chargebacks,
            };
            side.inclusive += rate.inclusive;
            side.tax += rate.tax;
            figures.net.inclusive -= rate.inclusive;
            figures.net.tax -= rate.tax;
            self.entries.push(Entry {
                day: japan_day(content.refunded_at),
                kind: match kind {
                    ReturnKind::Refund => EntryKind::Refund,
                    ReturnKind::Chargeback => EntryKind::Chargeback,
                },
                number: returned.invoice.number,
                receipt_number: Some(content.receipt_number),
                rate: rate.rate,
                amount: rate.inclusive,
                tax: rate.tax,
            });
        }
        // A return's amount at each rate is spread over that rate's lines by what they sold.
        let mut amounts = vec![0; content.lines.len()];
        let mut taxes = vec![0; content.lines.len()];
        for rate in &content.per_rate {
            let at_rate: Vec<usize> = (0..content.lines.len())
                .filter(|&i| content.lines[i].rate == rate.rate)
                .collect();
            let weights: Vec<i64> = at_rate
                .iter()
                .map(|&i| line_amount(&content.lines[i]))
                .collect();
            let shares = apportion(rate.inclusive, &weights);
            let tax_shares = apportion(rate.tax, &weights);
            for (k, &i) in at_rate.iter().enumerate() {
                amounts[i] += shares[k];
                taxes[i] += tax_shares[k];
            }
        }
        for (i, line) in content.lines.iter().enumerate() {
            let item = returned.items.get(i);
            let product = self.product(item, line, false);
            product.figures.returns += 1;
            product.figures.give_back(kind, amounts[i], taxes[i]);
            self.creator(item)
                .figures
                .give_back(kind, amounts[i], taxes[i]);
        }
    }
}

/// Each line's share of its rate's tax, apportioned by the lines' amounts.
fn line_taxes(lines: &[ReceiptLine], per_rate: &[crate::shop::tax::RateTotal]) -> Vec<i64> {
    let mut taxes = vec![0; lines.len()];
    for rate in per_rate {
        let at_rate: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i].rate == rate.rate)
            .collect();
        let weights: Vec<i64> = at_rate.iter().map(|&i| line_amount(&lines[i])).collect();
        for (k, share) in apportion(rate.tax, &weights).into_iter().enumerate() {
            taxes[at_rate[k]] += share;
        }
    }
    taxes
}

impl Books {
    /// The books of `period` from its sales and returns, grouped by `grouping` (fiscal years
    /// starting in `fiscal_start`). Sales count on the day they were paid, returns on the day
    /// they were returned; documents outside the period are left out.
    #[must_use]
    pub fn of(
        period: Period,
        grouping: Grouping,
        fiscal_start: Month,
        sales: &[Sale],
        returns: &[Return],
    ) -> Self {
        let mut tally = Tally::default();
        for sale in sales
            .iter()
            .filter(|s| period.holds(s.receipt.content.paid_at))
        {
            let label = grouping.label(japan_day(sale.receipt.content.paid_at), fiscal_start);
            tally.sale(sale, label);
        }
        for returned in returns
            .iter()
            .filter(|r| period.holds(r.invoice.content.refunded_at))
        {
            let label = grouping.label(
                japan_day(returned.invoice.content.refunded_at),
                fiscal_start,
            );
            tally.give_back(returned, label);
        }
        let mut products: Vec<ProductFigures> = tally.products.into_values().collect();
        products.sort_by(|a, b| b.figures.net.cmp(&a.figures.net).then(a.sku.cmp(&b.sku)));
        let mut creators: Vec<CreatorFigures> = tally.creators.into_values().collect();
        creators.sort_by(|a, b| b.figures.net.cmp(&a.figures.net).then(a.key.cmp(&b.key)));
        let mut entries = tally.entries;
        entries.sort_by_key(|e| {
            (
                e.day,
                e.kind != EntryKind::Sale,
                e.number,
                std::cmp::Reverse(e.rate),
            )
        });
        Self {
            period,
            grouping,
            totals: tally.totals,
            rates: tally.rates.into_values().rev().collect(),
            buckets: tally
                .buckets
                .into_iter()
                .map(|(label, figures)| Bucket { label, figures })
                .collect(),
            products,
            creators,
            entries,
        }
    }
}

#[cfg(test)]
mod apportion_tests {
    use super::apportion;

    #[test]
    fn shares_add_up_to_the_total_and_follow_the_weights() {
        assert_eq!(apportion(1000, &[1, 1, 2]), vec![250, 250, 500]);
        assert_eq!(apportion(100, &[1, 1, 1]), vec![33, 33, 34]);
        assert_eq!(apportion(7, &[0, 0]), vec![0, 7]);
        assert_eq!(apportion(5, &[]), Vec::<i64>::new());
    }
}
