//! The statistics' buffer: requests offer their anonymous record to a bounded channel and never
//! wait; a writer stores them in batches off the request path. When the buffer is full a record
//! is dropped and counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kikeru_domain::privacy::ports::Statistics;
use kikeru_domain::privacy::stats::{Hit, tally};
use kikeru_http::HitSink;
use tokio::sync::mpsc;

/// How many records wait at most.
pub const BUFFER: usize = 10_000;
/// The most records taken from the buffer at once.
const BATCH: usize = 500;
/// The most records gathered into one write.
const GATHER: usize = 20_000;

/// The request side of the buffer.
#[derive(Debug)]
pub struct BufferedHits {
    sender: mpsc::Sender<Hit>,
    dropped: AtomicU64,
}

impl BufferedHits {
    /// A buffer of `capacity` records and the receiver its writer drains.
    pub fn new(capacity: usize) -> (Arc<Self>, mpsc::Receiver<Hit>) {
        let (sender, receiver) = mpsc::channel(capacity);
        (
            Arc::new(Self {
                sender,
                dropped: AtomicU64::new(0),
            }),
            receiver,
        )
    }

    /// Records dropped because the buffer was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl HitSink for BufferedHits {
    fn offer(&self, hit: Hit) {
        if self.sender.try_send(hit).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Writes what the buffer receives, in batches of up to a second, merged by [`tally`] (equal
/// records of a minute become one with a count), until every sender is gone and the buffer is
/// empty. A batch the store refuses is dropped (and logged): statistics never retry into
/// duplicates.
pub async fn write_hits(mut receiver: mpsc::Receiver<Hit>, store: Arc<dyn Statistics>) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        if receiver.recv_many(&mut batch, BATCH).await == 0 {
            return;
        }
        // Let a burst gather into one batch.
        tokio::time::sleep(Duration::from_secs(1)).await;
        while batch.len() < GATHER {
            match receiver.try_recv() {
                Ok(hit) => batch.push(hit),
                Err(_) => break,
            }
        }
        let merged = tally(std::mem::take(&mut batch));
        if let Err(e) = store.record(&merged).await {
            tracing::warn!(error = %e, records = merged.len(), "statistics records dropped");
        }
        batch.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kikeru_domain::privacy::stats::BrowserClass;

    #[tokio::test]
    async fn a_full_buffer_drops_and_counts_and_the_writer_stores_the_rest() {
        let (sink, receiver) = BufferedHits::new(3);
        let at = time::macros::datetime!(2026-04-01 09:00 UTC);
        for _ in 0..5 {
            sink.offer(Hit::new(at, "GET", "/", 200, BrowserClass::default()));
        }
        assert_eq!(sink.dropped(), 2);
        let store = Arc::new(kikeru_memory::MemoryStore::new());
        drop(sink);
        write_hits(receiver, store.clone()).await;
        store
            .roll_up(time::macros::date!(2026 - 04 - 02))
            .await
            .unwrap();
        let counts = store
            .daily(
                time::macros::date!(2026 - 04 - 01),
                time::macros::date!(2026 - 04 - 01),
            )
            .await
            .unwrap();
        assert_eq!(counts[0].count, 3);
    }
}
