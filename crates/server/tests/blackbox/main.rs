//! Black-box tests of the real `kikeru` binary (the one Cargo built for this run,
//! `CARGO_BIN_EXE_kikeru`): each starts it on a free port with its own data folder (and, for
//! PostgreSQL, its own database) and talks to it over HTTP, SMTP, LMTP, the command line and a
//! headless browser, as members, operators and the payment provider would.
//!
//! One test binary for the whole suite: linking is the slow part of a test build on two cores.

mod support;

/// The payment contract's stand-in for Stripe's API, shared with this suite.
#[path = "../../../payment/tests/fake_stripe/mod.rs"]
mod fake_stripe;

mod binary;
mod books;
mod catalogue;
mod deletion;
mod faults;
mod mail;
mod membership;
mod metrics;
mod nodes;
mod operations;
mod privacy;
mod requests;
mod second_factor;
mod shop;
mod sign_in_protection;
mod site;
mod smoke;
mod stats;
mod stripe;
mod tls;
