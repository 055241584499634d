//! Money: integer minor units and an ISO 4217 currency. JPY has no minor unit, so ¥1,100 is
//! `1100`; USD has two, so $11.00 is `1100`.

use std::fmt;
use std::str::FromStr;

/// A supported ISO 4217 currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Currency {
    /// Japanese yen (no minor unit).
    Jpy,
    /// US dollar (cents).
    Usd,
    /// Euro (cents).
    Eur,
}

impl Currency {
    /// The ISO 4217 code.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Jpy => "JPY",
            Self::Usd => "USD",
            Self::Eur => "EUR",
        }
    }

    /// Digits after the decimal point.
    pub const fn exponent(self) -> u32 {
        match self {
            Self::Jpy => 0,
            Self::Usd | Self::Eur => 2,
        }
    }
}

/// The text is not a supported currency code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unsupported currency; use JPY, USD or EUR")]
pub struct UnsupportedCurrency;

impl FromStr for Currency {
    type Err = UnsupportedCurrency;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        match code.trim().to_ascii_uppercase().as_str() {
            "JPY" => Ok(Self::Jpy),
            "USD" => Ok(Self::Usd),
            "EUR" => Ok(Self::Eur),
            _ => Err(UnsupportedCurrency),
        }
    }
}

/// An amount of money: never negative, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

/// Why an amount was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Below zero.
    #[error("an amount cannot be negative")]
    Negative,
    /// Over 10^12 minor units; no single price or order is that large.
    #[error("the amount is too large")]
    TooLarge,
    /// Adding amounts of two currencies.
    #[error("the amounts are in different currencies")]
    CurrencyMismatch,
}

/// The largest amount accepted, in minor units.
pub const MAX_MINOR: i64 = 1_000_000_000_000;

impl Money {
    /// An amount of `minor` units of `currency`.
    ///
    /// # Errors
    /// [`MoneyError::Negative`] or [`MoneyError::TooLarge`].
    pub const fn new(minor: i64, currency: Currency) -> Result<Self, MoneyError> {
        if minor < 0 {
            Err(MoneyError::Negative)
        } else if minor > MAX_MINOR {
            Err(MoneyError::TooLarge)
        } else {
            Ok(Self { minor, currency })
        }
    }

    /// Zero in `currency`.
    pub const fn zero(currency: Currency) -> Self {
        Self { minor: 0, currency }
    }

    /// The amount in minor units.
    pub const fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// The sum of two amounts of one currency.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] or [`MoneyError::TooLarge`].
    pub fn checked_add(self, other: Self) -> Result<Self, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch);
        }
        Self::new(self.minor.saturating_add(other.minor), self.currency)
    }

    /// `amount × n`.
    ///
    /// # Errors
    /// [`MoneyError::TooLarge`].
    pub fn times(self, n: u32) -> Result<Self, MoneyError> {
        Self::new(self.minor.saturating_mul(i64::from(n)), self.currency)
    }
}

/// `¥1,100` / `$11.00`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let symbol = match self.currency {
            Currency::Jpy => "¥",
            Currency::Usd => "$",
            Currency::Eur => "€",
        };
        let scale = 10_i64.pow(self.currency.exponent());
        let whole = group(self.minor / scale);
        if self.currency.exponent() == 0 {
            write!(f, "{symbol}{whole}")
        } else {
            let width = self.currency.exponent() as usize;
            write!(f, "{symbol}{whole}.{:0width$}", self.minor % scale)
        }
    }
}

impl Money {
    /// The amount as consumers in Japan must see every price (総額表示): tax included, said
    /// so — `1,100円（税込）` in Japanese, `¥1,100 (tax incl.)` in English.
    pub fn tax_inclusive(&self, language: crate::Language) -> String {
        match language {
            crate::Language::Ja => format!("{}（税込）", self.in_language(language)),
            crate::Language::En => format!("{self} (tax incl.)"),
        }
    }

    /// The amount as people write it in `language` (`100円`, `¥100`), for amounts that are not
    /// prices (the tax in a total).
    pub fn in_language(&self, language: crate::Language) -> String {
        match (language, self.currency) {
            (crate::Language::Ja, Currency::Jpy) => format!("{}円", group(self.minor)),
            _ => self.to_string(),
        }
    }
}

fn group(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_shown_tax_inclusive_and_say_so() {
        let yen = Money::new(1_100, Currency::Jpy).unwrap();
        assert_eq!(yen.tax_inclusive(crate::Language::Ja), "1,100円（税込）");
        assert_eq!(yen.tax_inclusive(crate::Language::En), "¥1,100 (tax incl.)");
        let dollars = Money::new(1_250, Currency::Usd).unwrap();
        assert_eq!(dollars.tax_inclusive(crate::Language::Ja), "$12.50（税込）");
    }

    #[test]
    fn amounts_are_non_negative_bounded_and_of_one_currency() {
        assert_eq!(Money::new(-1, Currency::Jpy), Err(MoneyError::Negative));
        assert_eq!(
            Money::new(MAX_MINOR + 1, Currency::Jpy),
            Err(MoneyError::TooLarge)
        );
        let yen = Money::new(1100, Currency::Jpy).unwrap();
        let dollars = Money::new(1100, Currency::Usd).unwrap();
        assert_eq!(yen.checked_add(dollars), Err(MoneyError::CurrencyMismatch));
        assert_eq!(yen.checked_add(yen).unwrap().minor(), 2200);
        assert_eq!(yen.times(3).unwrap().minor(), 3300);
    }

    #[test]
    fn amounts_display_with_their_minor_units() {
        assert_eq!(
            Money::new(1_234_567, Currency::Jpy).unwrap().to_string(),
            "¥1,234,567"
        );
        assert_eq!(
            Money::new(1100, Currency::Usd).unwrap().to_string(),
            "$11.00"
        );
        assert_eq!(Money::new(5, Currency::Eur).unwrap().to_string(), "€0.05");
        assert_eq!(Money::zero(Currency::Jpy).to_string(), "¥0");
    }

    #[test]
    fn currency_codes_parse_case_insensitively() {
        assert_eq!("jpy".parse(), Ok(Currency::Jpy));
        assert_eq!("GBP".parse::<Currency>(), Err(UnsupportedCurrency));
    }
}
