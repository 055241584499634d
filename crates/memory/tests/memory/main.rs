//! The in-memory adapter's tests: the storage contract suites, run on `MemoryStore`.

mod contract;
