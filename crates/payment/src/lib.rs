//! Payment adapters. Both send the member to a hosted checkout (card data never reaches us),
//! and both sign their webhooks the way Stripe documents it: `t=<unix time>,v1=<hex
//! HMAC-SHA256 of "<t>.<raw body>">`, checked against every configured secret (rotation) with a
//! tolerance of five minutes.
//!
//! - [`SandboxGateway`]: the embedded default, a clearly labelled test mode served by our own
//!   binary.
//! - [`StripeGateway`]: Stripe Checkout Sessions, created with form-encoded requests and an
//!   `Idempotency-Key`, reconciled by retrieving the session.

mod sandbox;
mod signature;
mod stripe;

pub use sandbox::{SIGNATURE_HEADER as SANDBOX_SIGNATURE_HEADER, SandboxGateway};

use kikeru_domain::Currency;
use kikeru_domain::shop::ports::AmountLimits;

/// What Stripe takes in one payment (its documented minimum charge per currency, and at most
/// eight digits in the minor unit). The sandbox keeps the same limits, so a test-mode shop
/// refuses what going live would.
pub(crate) const fn stripe_limits(currency: Currency) -> AmountLimits {
    // ¥50, $0.50, €0.50: fifty of the minor unit for every currency the shop prices in.
    let min = match currency {
        Currency::Jpy | Currency::Usd | Currency::Eur => 50,
    };
    AmountLimits {
        min,
        max: 99_999_999,
    }
}
pub use signature::{TOLERANCE_SECS, sign_header};
pub use stripe::{StripeConfig, StripeGateway};
