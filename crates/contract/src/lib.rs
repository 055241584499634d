//! Conformance suites for the storage ports of `kikeru-domain`.
//!
//! Each case is a plain `pub async fn` taking the port as a trait object, one per MUST sentence
//! of the port's documentation. [`storage_contract_tests!`] turns every case into its own named
//! `#[tokio::test]` for an adapter, so an adapter's `tests/contract.rs` is one line per backend:
//!
//! ```ignore
//! async fn setup() -> Option<Box<MyStore>> { /* a fresh, empty store */ }
//! async fn teardown(_store: Box<MyStore>) {}
//! kikeru_contract::storage_contract_tests!(setup, teardown);
//! ```
//!
//! The store returned by `setup` must dereference to a type implementing every storage port
//! (`Members`, `Sessions`, `SecondFactors`, `Tokens`, `AuditLog`, `RateLimits`, `Catalog`, `Orders`,
//! `Operators`, `Consents`, `Ledger`, `Erasure`,
//! `LegalOrders`, `Retention`, `Processors`, `Partners`, `UnitOfWork`, `Outbox`, `Inquiries`, `Statistics`) and start empty. `setup` returns
//! `None` only when the backend is not configured, after saying so on standard error; the case
//! then counts as passed, so CI must configure every backend. `teardown` runs only when the case
//! passed, so a failing case leaves its data behind for inspection.

pub mod audit;
pub mod books;
pub mod cases;
pub mod catalog;
pub mod consents;
pub mod erasure;
pub mod fixtures;
pub mod gateway;
pub mod incidents;
pub mod inquiries;
pub mod ledger;
pub mod legal_orders;
pub mod members;
pub mod operators;
pub mod orders;
pub mod outbox;
pub mod processors;
pub mod rate_limits;
pub mod receipts;
pub mod requests;
pub mod retention;
pub mod sealer;
pub mod second_factors;
pub mod sessions;
pub mod stats;
pub mod tokens;
pub mod unit;

/// Expands every case of every storage suite into a `#[tokio::test]`, in one module per port:
/// each port's own macro (`members_contract_tests!`, `sessions_contract_tests!`, …, declared
/// next to its cases) for an adapter that implements them all. An adapter of only some ports
/// calls those ports' macros instead.
///
/// `$setup` is an `async fn() -> Option<P>` where `P` dereferences to the store, returning a
/// fresh, empty store (or `None` for an unconfigured backend); `$teardown` an `async fn(P)`
/// run after a passing case.
#[macro_export]
macro_rules! storage_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::members_contract_tests!($setup, $teardown);
        $crate::sessions_contract_tests!($setup, $teardown);
        $crate::second_factors_contract_tests!($setup, $teardown);
        $crate::tokens_contract_tests!($setup, $teardown);
        $crate::audit_contract_tests!($setup, $teardown);
        $crate::catalog_contract_tests!($setup, $teardown);
        $crate::orders_contract_tests!($setup, $teardown);
        $crate::cases_contract_tests!($setup, $teardown);
        $crate::receipts_contract_tests!($setup, $teardown);
        $crate::books_contract_tests!($setup, $teardown);
        $crate::incidents_contract_tests!($setup, $teardown);
        $crate::operators_contract_tests!($setup, $teardown);
        $crate::consents_contract_tests!($setup, $teardown);
        $crate::ledger_contract_tests!($setup, $teardown);
        $crate::erasure_contract_tests!($setup, $teardown);
        $crate::legal_orders_contract_tests!($setup, $teardown);
        $crate::retention_contract_tests!($setup, $teardown);
        $crate::processors_contract_tests!($setup, $teardown);
        $crate::unit_contract_tests!($setup, $teardown);
        $crate::outbox_contract_tests!($setup, $teardown);
        $crate::inquiries_contract_tests!($setup, $teardown);
        $crate::requests_contract_tests!($setup, $teardown);
        $crate::stats_contract_tests!($setup, $teardown);
        $crate::rate_limits_contract_tests!($setup, $teardown);
    };
    (@suite $setup:path, $teardown:path, $suite:ident: [$($case:ident),+ $(,)?]) => {
        mod $suite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $case() {
                    let Some(store) = $setup().await else { return };
                    $crate::$suite::$case(&*store).await;
                    $teardown(store).await;
                }
            )+
        }
    };
}
