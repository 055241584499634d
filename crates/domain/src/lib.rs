//! The domain of Minna Kikeru (みんな聞ける): entities, value objects, rules, ports and use cases.
//!
//! This crate is pure. It performs no I/O and depends on no runtime, database or web framework;
//! time, randomness, storage, hashing and mail reach it through ports. Embed it with your
//! own adapters and prove them with the conformance suites in `kikeru-contract`.
//!
//! Values are validated once, at construction ([`Email::parse`], [`Password::new`]), so a value
//! inside the domain is always valid. Rules that depend on time take the time as an argument.
//!
//! # The front door
//!
//! [`Services::new`] builds every use case on one set of [`Adapters`] — a [`Store`] (every
//! storage port), a password hasher, a sealer, a passkey verifier, a payment provider, a mailer,
//! a clock and randomness — with one [`Settings`]. The [`prelude`] brings in what a caller
//! needs. `cargo run -p kikeru-testkit --example embed` runs a whole member's journey on the
//! in-memory adapters plus a mailer written in the example itself.
//!
//! ```
//! use kikeru_domain::prelude::*;
//!
//! /// Registers a member on whatever adapters the embedder wrote; the verification mail waits
//! /// in the outbox until the postman delivers it.
//! async fn register<S: Store>(
//!     adapters: &Adapters<S>,
//!     settings: Settings,
//! ) -> Result<(), RegisterError> {
//!     let services = Services::new(adapters, settings);
//!     let registration = Registration {
//!         email: Email::parse("hanako@example.jp").expect("a valid address"),
//!         password: "correct horse battery staple".to_owned(),
//!         language: Language::Ja,
//!     };
//!     let client = Client { key: "192.0.2.1".to_owned(), browser: "Firefox".to_owned() };
//!     services.membership.register(registration, &client).await?;
//!     services.postman.deliver_due().await?;
//!     Ok(())
//! }
//! ```
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::todo)
)]

pub mod changes;
pub mod kernel;
pub mod mail;
pub mod membership;
pub mod office;
pub mod ports;
pub mod prelude;
pub mod privacy;
pub mod services;
pub mod shop;

pub use kernel::errors::StoreError;
pub use kernel::money::{Currency, Money, MoneyError};
pub use kernel::throttle::{ThrottlePolicy, ThrottleRule};
pub use membership::audit::{SecurityEvent, SecurityEventKind};
pub use membership::email::{Email, EmailError};
pub use membership::member::{DisplayName, DisplayNameError, Language, Member, MemberId};
pub use membership::password::{Password, PasswordAttempt, PasswordHashString, PasswordRejection};
pub use membership::session::{Session, SessionId, SessionPolicy, SessionToken, TokenHash};
pub use membership::token::{OneTimeToken, TokenPurpose};
pub use membership::{Membership, MembershipConfig, MembershipPorts};
pub use services::{Adapters, Services, Settings, Store};
pub use shop::case::{Case, CaseState, DisputeState, RefundState};
pub use shop::catalog::{
    AssetKey, CatalogError, Localized, Product, ProductDraft, ProductFields, ProductId, Sku,
};
pub use shop::collection::{Cover, Creator, CreatorKey, Reading, Tag};
pub use shop::order::{
    EventOutcome, News, Order, OrderId, OrderLine, Payment, PaymentEvent, PaymentId, PaymentSignal,
    PaymentStatus, Purchase, PurchaseCursor, StatusChange,
};
pub use shop::{Quote, Shop, ShopConfig, ShopPorts};

/// A point in time, in UTC. The domain never reads the clock itself: see [`ports::Clock`].
pub type Timestamp = time::OffsetDateTime;
