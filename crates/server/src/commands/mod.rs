//! One file per subcommand (or group of subcommands) of `kikeru`; `crate::run` dispatches.

pub(crate) mod backup;
pub(crate) mod books;
pub(crate) mod catalog;
pub(crate) mod disclose;
pub(crate) mod ledger;
pub(crate) mod mail;
pub(crate) mod member;
pub(crate) mod migrate;
pub(crate) mod operator;
pub(crate) mod order;
pub(crate) mod policy;
pub(crate) mod retention;
pub(crate) mod serve;
pub(crate) mod stats;
