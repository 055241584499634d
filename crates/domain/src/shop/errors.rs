//! What the shop's use cases answer when they cannot do what was asked.

use crate::shop::order::NotRefundable;
use crate::shop::ports::{GatewayError, WebhookError};
use crate::shop::{MAX_IDEMPOTENCY_KEY, MAX_IMPORT, MAX_ITEMS};
use crate::{ProductId, StoreError};

/// Placing an order failed.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    /// Only members with a verified address can buy.
    #[error("verify your e-mail address before buying")]
    NotVerified,
    /// No products, too many, or one twice.
    #[error("an order holds 1 to {MAX_ITEMS} different products")]
    BadItems,
    /// The idempotency key is empty or too long.
    #[error("the Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters")]
    BadIdempotencyKey,
    /// A product does not exist or is not on sale.
    #[error("product {0} is not on sale")]
    NotOnSale(ProductId),
    /// The member owns a product already.
    #[error("you already own product {0}")]
    AlreadyOwned(ProductId),
    /// The products are priced in different currencies.
    #[error("the products are priced in different currencies")]
    MixedCurrencies,
    /// The checkout would send the payment processor a category it is not entrusted with.
    #[error("the payment processor is not entrusted with {0}")]
    NotEntrusted(&'static str),
    /// The same idempotency key was used for a different order.
    #[error("this Idempotency-Key was used for a different order")]
    KeyReused,
    /// The total is more or less than the payment provider takes in one payment.
    #[error(
        "the payment provider takes {min} to {max} {currency} (in its smallest unit) in one payment; this order comes to {total}",
        currency = currency.code()
    )]
    AmountOutOfRange {
        /// The order's total, in minor units.
        total: i64,
        /// The least the provider takes.
        min: i64,
        /// The most the provider takes.
        max: i64,
        /// The currency.
        currency: crate::Currency,
    },
    /// The payment provider failed; the order stays pending and a retry with the same key
    /// resumes it.
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A webhook was not applied.
#[derive(Debug, thiserror::Error)]
pub enum WebhookFailure {
    /// Refused: bad signature, stale, or malformed. Nothing changed.
    #[error(transparent)]
    Refused(#[from] WebhookError),
    /// Storage failed; nothing was kept, so the provider's redelivery will apply it.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reading or reconciling an order failed.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// No such order, or another member's (the two are indistinguishable).
    #[error("no such order")]
    NotFound,
    /// The member does not own the product.
    #[error("you do not own this product")]
    NotOwned,
    /// The member bought the product, but the payment is disputed: it is withheld until the
    /// dispute closes.
    #[error("this purchase is withheld while its payment is disputed")]
    Disputed,
    /// The provider could not be asked.
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A refund failed.
#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    /// No such order.
    #[error("no such order")]
    NotFound,
    /// The order is not paid.
    #[error(transparent)]
    NotRefundable(#[from] NotRefundable),
    /// The provider refused or failed.
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An import was refused whole; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// More than [`MAX_IMPORT`] products, or none.
    #[error("an import holds 1 to {MAX_IMPORT} products")]
    Size,
    /// A SKU appears twice.
    #[error("SKU {0} appears more than once")]
    DuplicateSku(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
