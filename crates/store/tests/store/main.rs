//! The storage adapter's tests, in one binary (linking is the slow part of a test build): the contract suites on SQLite and PostgreSQL, the schema, the outbox and incidents.

mod contract;
mod incidents;
mod outbox;
mod schema;
