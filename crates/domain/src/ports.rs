//! Every port in one place, for adapter writers: each trait is defined in its feature's `ports`
//! module (with the values its methods take) and re-exported here.
//!
//! | feature | module |
//! | --- | --- |
//! | time, randomness, sealing, rate limits, the storage error | [`crate::kernel::ports`], [`crate::kernel::errors`] |
//! | members, sessions, tokens, second factors, security history, passwords, passkeys | [`crate::membership::ports`] |
//! | catalogue, orders and payments, payment provider, receipts | [`crate::shop::ports`] |
//! | consents, processors, partners, legal orders, ledger, retention, statistics | [`crate::privacy::ports`] |
//! | operators, incidents, inquiries | [`crate::office::ports`], [`crate::office::incident::ports`], [`crate::office::inquiry::ports`] |
//! | outbox and mailer | [`crate::mail::ports`] |
//! | all writes of one use case at once | [`crate::changes::UnitOfWork`] |
//!
//! Each method states its contract as MUST / MUST NOT sentences; `kikeru-contract` has a
//! conformance case for each, and every adapter runs those cases.

#[cfg(any(test, feature = "mocks"))]
pub use crate::changes::MockUnitOfWork;
pub use crate::changes::UnitOfWork;
pub use crate::kernel::errors::StoreError;
pub use crate::kernel::ports::*;
pub use crate::mail::message::*;
pub use crate::mail::ports::*;
pub use crate::membership::ports::*;
pub use crate::office::incident::ports::*;
pub use crate::office::inquiry::ports::*;
pub use crate::office::ports::*;
pub use crate::privacy::ports::*;
pub use crate::shop::ports::*;
