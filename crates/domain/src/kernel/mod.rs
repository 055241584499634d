//! The kernel every feature builds on and none of them owns: identifiers minted from the ports,
//! rate limits and their keys. It depends on no feature module.

pub(crate) mod ids;
pub mod throttle;
