//! The kernel every feature builds on and none of them owns: identifiers minted from the ports,
//! money, rate limits and their keys, the storage error, and the ports every feature needs (the
//! time, randomness, sealing, rate-limit counters). It depends on no feature module.

pub mod errors;
pub(crate) mod ids;
pub mod money;
pub mod ports;
pub mod throttle;
