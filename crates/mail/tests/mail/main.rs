//! The mail adapter's tests, in one binary: inbound mail (the LMTP listener and its parser) and SMTP delivery against a real server.

mod inbound;
mod smtp;
