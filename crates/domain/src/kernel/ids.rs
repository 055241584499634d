//! Identifiers the domain mints itself, from the clock and random ports.

use uuid::Uuid;

use crate::Timestamp;

/// A UUIDv7: the time from the clock port, the rest from the random port.
pub(crate) fn uuid_v7(now: Timestamp, random: &[u8; 32]) -> Uuid {
    let millis = u64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    let mut tail = [0u8; 10];
    tail.copy_from_slice(&random[..10]);
    uuid::Builder::from_unix_timestamp_millis(millis, &tail).into_uuid()
}
