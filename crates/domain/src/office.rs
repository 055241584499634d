//! The office (事務局): operator accounts and their roles, the incident desk (leak reports and
//! notices), and the contact desk (members' and visitors' inquiries and their answers).

pub mod books;
pub mod incident;
pub mod inquiry;
pub mod operators;
pub mod ports;
pub mod service;
