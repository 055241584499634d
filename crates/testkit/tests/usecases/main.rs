//! The use cases journey by journey, built by `Services::new` on the in-memory adapters and the
//! test doubles of this crate, in one binary.

mod membership;
mod privacy;
mod shop;
