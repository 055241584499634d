//! Consumption tax (消費税), pure: the rates in force on a date, the tax contained in
//! tax-inclusive prices (総額表示), and an order's totals per rate with one rounding per rate per
//! order — what a qualified invoice (適格請求書) must state — and the registration number of
//! the issuer (`T` + 13 digits).
//!
//! Prices are stored and shown tax-inclusive. For a rate of r %, the tax contained in an
//! inclusive amount A is A × r / (100 + r), rounded once for all of an order's lines at that
//! rate by the configured rule (切り捨て, rounding down, by default); the tax-exclusive amount
//! is the rest.

use std::fmt;

use time::Date;

/// Which rate a line is taxed at. Audio content is standard-rated; the reduced rate (food,
/// newspapers) exists so that the rules and receipts are complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RateClass {
    /// 標準税率.
    Standard,
    /// 軽減税率.
    Reduced,
}

impl RateClass {
    /// The stable name (configuration, storage).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Reduced => "reduced",
        }
    }
}

/// How an amount of tax is rounded to whole minor units (yen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rounding {
    /// 切り捨て: toward zero (the common choice).
    #[default]
    Down,
    /// 四捨五入: half away from zero.
    HalfUp,
    /// 切り上げ: away from zero.
    Up,
}

impl Rounding {
    /// The rule with this configured name (`down`, `half_up`, `up`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "down" => Some(Self::Down),
            "half_up" => Some(Self::HalfUp),
            "up" => Some(Self::Up),
            _ => None,
        }
    }

    /// `numerator / denominator` for non-negative values, rounded by the rule.
    const fn divide(self, numerator: i128, denominator: i128) -> i128 {
        let quotient = numerator / denominator;
        let remainder = numerator % denominator;
        match self {
            Self::Down => quotient,
            Self::HalfUp => {
                if remainder * 2 >= denominator {
                    quotient + 1
                } else {
                    quotient
                }
            }
            Self::Up => {
                if remainder > 0 {
                    quotient + 1
                } else {
                    quotient
                }
            }
        }
    }
}

/// The rates in force from a date on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatePeriod {
    /// The first day they apply (Japan time).
    pub from: Date,
    /// The standard rate, in percent.
    pub standard: u32,
    /// The reduced rate, in percent.
    pub reduced: u32,
}

/// The tax rules: rate periods in order, and the rounding rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxRules {
    periods: Vec<RatePeriod>,
    /// How the tax of each rate is rounded.
    pub rounding: Rounding,
}

/// Tax rules that cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TaxRulesError {
    /// No period at all.
    #[error("at least one tax rate period is needed")]
    Empty,
    /// Two periods start the same day.
    #[error("two tax rate periods start on the same day")]
    Overlap,
    /// A rate above 100 %.
    #[error("a tax rate must be between 0 and 100 percent")]
    Rate,
}

impl TaxRules {
    /// Rules from periods (any order) and a rounding rule.
    ///
    /// # Errors
    /// [`TaxRulesError`] for no period, two starting the same day, or a rate above 100 %.
    pub fn new(mut periods: Vec<RatePeriod>, rounding: Rounding) -> Result<Self, TaxRulesError> {
        if periods.is_empty() {
            return Err(TaxRulesError::Empty);
        }
        if periods.iter().any(|p| p.standard > 100 || p.reduced > 100) {
            return Err(TaxRulesError::Rate);
        }
        periods.sort_by_key(|p| p.from);
        if periods.windows(2).any(|w| w[0].from == w[1].from) {
            return Err(TaxRulesError::Overlap);
        }
        Ok(Self { periods, rounding })
    }

    /// Japan's rates since 2019-10-01: 10 % standard, 8 % reduced; rounded down.
    pub fn japan() -> Self {
        Self {
            periods: vec![RatePeriod {
                from: time::macros::date!(2019 - 10 - 01),
                standard: 10,
                reduced: 8,
            }],
            rounding: Rounding::Down,
        }
    }

    /// The periods, oldest first.
    pub fn periods(&self) -> &[RatePeriod] {
        &self.periods
    }

    /// The rate of `class` on `day`, in percent; `None` before the first period.
    pub fn rate_on(&self, day: Date, class: RateClass) -> Option<u32> {
        let period = self.periods.iter().rev().find(|p| p.from <= day)?;
        Some(match class {
            RateClass::Standard => period.standard,
            RateClass::Reduced => period.reduced,
        })
    }

    /// The tax contained in a tax-inclusive `amount` at `rate` %, rounded once.
    pub fn tax_in(&self, amount: i64, rate: u32) -> i64 {
        let amount = i128::from(amount.max(0));
        let rate = i128::from(rate);
        let tax = self.rounding.divide(amount * rate, 100 + rate);
        i64::try_from(tax).unwrap_or(i64::MAX)
    }

    /// An order's tax on `day`: each line's rate, and per rate the inclusive total, the tax
    /// (rounded once per rate) and the exclusive total.
    ///
    /// # Errors
    /// [`NoRate`] when no period covers `day`.
    pub fn breakdown(&self, day: Date, lines: &[TaxLine]) -> Result<TaxBreakdown, NoRate> {
        let mut per_rate: Vec<RateTotal> = Vec::new();
        let mut rated = Vec::with_capacity(lines.len());
        for line in lines {
            let rate = self.rate_on(day, line.class).ok_or(NoRate)?;
            let amount = line
                .unit_price
                .saturating_mul(i64::from(line.quantity))
                .max(0);
            rated.push(rate);
            match per_rate.iter_mut().find(|t| t.rate == rate) {
                Some(total) => total.inclusive = total.inclusive.saturating_add(amount),
                None => per_rate.push(RateTotal {
                    rate,
                    inclusive: amount,
                    tax: 0,
                    exclusive: 0,
                }),
            }
        }
        for total in &mut per_rate {
            total.tax = self.tax_in(total.inclusive, total.rate);
            total.exclusive = total.inclusive - total.tax;
        }
        // Higher rates first, as receipts list them.
        per_rate.sort_by_key(|t| std::cmp::Reverse(t.rate));
        Ok(TaxBreakdown {
            line_rates: rated,
            per_rate,
        })
    }
}

/// No tax rate period covers the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no tax rate is configured for this day")]
pub struct NoRate;

/// A line to tax: its tax-inclusive unit price, quantity and rate class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaxLine {
    /// The tax-inclusive unit price, in minor units.
    pub unit_price: i64,
    /// How many.
    pub quantity: u32,
    /// The rate class.
    pub class: RateClass,
}

/// The totals at one rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateTotal {
    /// The rate, in percent.
    pub rate: u32,
    /// The tax-inclusive total of the lines at this rate.
    pub inclusive: i64,
    /// The tax it contains, rounded once.
    pub tax: i64,
    /// The rest: the tax-exclusive total.
    pub exclusive: i64,
}

/// An order's tax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxBreakdown {
    /// Each line's rate, in the lines' order.
    pub line_rates: Vec<u32>,
    /// The totals per rate, highest rate first.
    pub per_rate: Vec<RateTotal>,
}

impl TaxBreakdown {
    /// The tax-inclusive total.
    pub fn total(&self) -> i64 {
        self.per_rate.iter().map(|t| t.inclusive).sum()
    }

    /// The tax in it.
    pub fn tax(&self) -> i64 {
        self.per_rate.iter().map(|t| t.tax).sum()
    }
}

/// A qualified-invoice issuer's registration number (適格請求書発行事業者登録番号): `T` and 13
/// digits whose first is the check digit of the other twelve (the corporate-number rule).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RegistrationNumber(String);

/// The text is not a registration number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationNumberError {
    /// Not `T` followed by 13 digits.
    #[error("a registration number is T followed by 13 digits")]
    Format,
    /// The check digit does not match.
    #[error("the registration number's check digit is wrong")]
    CheckDigit,
}

impl RegistrationNumber {
    /// Reads `T1234567890123` (spaces, hyphens and a lowercase `t` are tolerated).
    ///
    /// # Errors
    /// [`RegistrationNumberError`].
    pub fn parse(text: &str) -> Result<Self, RegistrationNumberError> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        let digits = compact
            .strip_prefix('T')
            .or_else(|| compact.strip_prefix('t'))
            .ok_or(RegistrationNumberError::Format)?;
        if digits.len() != 13 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RegistrationNumberError::Format);
        }
        let values: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
        if values[0] != check_digit(&values[1..]) {
            return Err(RegistrationNumberError::CheckDigit);
        }
        Ok(Self(format!("T{digits}")))
    }

    /// `T` and the 13 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RegistrationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegistrationNumber({})", self.0)
    }
}

impl fmt::Display for RegistrationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The corporate-number check digit of twelve digits (most significant first): 9 − (Σ Pₙ×Qₙ
/// mod 9), with Pₙ the n-th digit from the right and Qₙ 1 for odd n, 2 for even n.
fn check_digit(twelve: &[u32]) -> u32 {
    let sum: u32 = twelve
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { *d } else { d * 2 })
        .sum();
    9 - sum % 9
}

#[cfg(test)]
mod tests;
