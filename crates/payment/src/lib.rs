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
pub use signature::{TOLERANCE_SECS, sign_header};
pub use stripe::{StripeConfig, StripeGateway};
