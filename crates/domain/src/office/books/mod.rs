//! The books (帳簿): sales, refunds and chargebacks of a period, by day, month or fiscal year,
//! per tax rate, by product and by creator — summed from the receipts and return invoices as
//! they were issued, so that the figures of a 消費税 return are exactly what members received —
//! with a journal for the accountant and a reconciliation of the documents with the orders
//! and payments ([`BookKeeper`]).

pub mod check;
pub(crate) mod model;
pub mod ports;
pub mod render;

pub use check::{Difference, Reconciliation, Series, reconcile};
pub use model::*;

use std::fmt;
use std::sync::Arc;

use time::Month;

use crate::StoreError;
use crate::kernel::ports::Clock;

/// What the books run on.
#[derive(Clone)]
pub struct BookPorts {
    /// The documents and records.
    pub books: Arc<dyn ports::Books>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

impl fmt::Debug for BookPorts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BookPorts { .. }")
    }
}

/// How the books are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookPolicy {
    /// The month the fiscal year starts in (April for most companies in Japan, January for a
    /// sole proprietor).
    pub fiscal_year_start: Month,
}

impl BookPolicy {
    /// The policy of fiscal years that end with month `end` (1–12; a fiscal year ends on a
    /// month's last day, see [`crate::privacy::retention::RetentionPolicy::fiscal_year_end`]).
    #[must_use]
    pub fn after_year_ending(end: u8) -> Self {
        Self {
            fiscal_year_start: Month::try_from(end % 12 + 1).unwrap_or(Month::April),
        }
    }
}

impl Default for BookPolicy {
    fn default() -> Self {
        Self {
            fiscal_year_start: Month::April,
        }
    }
}

/// Makes and checks the books.
#[derive(Debug, Clone)]
pub struct BookKeeper {
    ports: BookPorts,
    policy: BookPolicy,
}

impl BookKeeper {
    /// A book keeper on `ports` under `policy`.
    #[must_use]
    pub fn new(ports: BookPorts, policy: BookPolicy) -> Self {
        Self { ports, policy }
    }

    /// The policy.
    #[must_use]
    pub fn policy(&self) -> BookPolicy {
        self.policy
    }

    /// The fiscal year that holds today (Japan time).
    #[must_use]
    pub fn this_fiscal_year(&self) -> Period {
        Period::fiscal_year(
            japan_day(self.ports.clock.now()),
            self.policy.fiscal_year_start,
        )
    }

    /// The books of `period`, grouped by `grouping`.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn books(&self, period: Period, grouping: Grouping) -> Result<Books, StoreError> {
        let (from, to) = (period.start(), period.end());
        let sales = self.ports.books.sales(from, to).await?;
        let returns = self.ports.books.returns(from, to).await?;
        Ok(Books::of(
            period,
            grouping,
            self.policy.fiscal_year_start,
            &sales,
            &returns,
        ))
    }

    /// Reconciles the documents of `period` with the orders and payments.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn verify(&self, period: Period) -> Result<Reconciliation, StoreError> {
        let books = self.books(period, Grouping::Month).await?;
        let records = self
            .ports
            .books
            .records(period.start(), period.end())
            .await?;
        Ok(reconcile(&books, &records, self.ports.clock.now()))
    }
}

#[cfg(test)]
mod tests;
