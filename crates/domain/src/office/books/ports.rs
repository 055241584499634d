//! The storage port of the books: the documents of a period and the records they are checked
//! against. Read-only; every figure is computed in the domain.

use async_trait::async_trait;

use super::check::Records;
use super::model::{Return, Sale};
use crate::{StoreError, Timestamp};

/// The documents and records the books are made from.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Books: Send + Sync + 'static {
    /// The receipts of orders paid in `[from, to)`, by payment time then number, each with
    /// the SKU and creator of every line.
    ///
    /// # Errors
    /// When storage fails.
    async fn sales(&self, from: Timestamp, to: Timestamp) -> Result<Vec<Sale>, StoreError>;

    /// The return invoices of returns made in `[from, to)` (by the date of the return), by
    /// that date then number, each with its kind and the SKU and creator of every line.
    ///
    /// # Errors
    /// When storage fails.
    async fn returns(&self, from: Timestamp, to: Timestamp) -> Result<Vec<Return>, StoreError>;

    /// What the orders and payments record of `[from, to)`: the orders paid in it with their
    /// receipts, the returns settled in it with their return invoices, and both sequences'
    /// numbers (over all time).
    ///
    /// # Errors
    /// When storage fails.
    async fn records(&self, from: Timestamp, to: Timestamp) -> Result<Records, StoreError>;
}
