//! What a caller of the domain needs in scope: the front door, the values every use case takes,
//! and the ports an embedder implements.
//!
//! ```
//! use kikeru_domain::prelude::*;
//! ```

pub use crate::changes::UnitOfWork;
pub use crate::kernel::errors::StoreError;
pub use crate::kernel::ports::{Clock, Random, Sealer};
pub use crate::mail::ports::Mailer;
pub use crate::membership::ports::PasswordHasher;
pub use crate::membership::{Client, RegisterError, Registration, SignInError, Throttled};
pub use crate::services::{Adapters, Services, Settings, Store};
pub use crate::shop::ports::{PaymentGateway, SimulatedCheckout};
pub use crate::shop::{Shop, ShopConfig};
pub use crate::{
    DisplayName, Email, Language, Member, MemberId, MembershipConfig, Money, Order, OrderId,
    Password, PaymentStatus, Product, ProductId, Purchase, Timestamp,
};
