//! Mail: the outbox every use case writes to in the same transaction as its change, the postman
//! that delivers what is due, and what a mail says.

pub mod message;
pub mod outbox;
pub mod ports;
pub mod postman;
