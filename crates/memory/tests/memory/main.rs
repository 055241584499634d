//! The in-memory adapter's tests, in one binary: the contract suites, and the use cases journey by journey on in-memory adapters.

mod contract;
mod membership;
mod privacy;
mod shop;
