//! The storefront: keeps the [`Shelf`] in step with the catalogue. Every page, product and
//! search a visitor asks for is answered from the shelf in memory; the shelf is rebuilt when
//! the catalogue's version moves — by a change made here, by another process (the import
//! command) or by another node of the same database, which a caller notices by calling
//! [`Storefront::refresh`] on a timer.

use std::sync::{Arc, PoisonError, RwLock};

use crate::kernel::ports::Clock;
use crate::shop::ports::Catalog;
use crate::shop::shelf::Shelf;
use crate::{Sku, StoreError};

/// How many pieces are read from the catalogue at a time while building a shelf.
const BATCH: u32 = 1_000;

/// The shelf and what keeps it fresh.
pub struct Storefront {
    catalog: Arc<dyn Catalog>,
    clock: Arc<dyn Clock>,
    shelf: RwLock<Arc<Shelf>>,
}

impl std::fmt::Debug for Storefront {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storefront")
            .field("version", &self.shelf().version())
            .finish_non_exhaustive()
    }
}

impl Storefront {
    /// A storefront over `catalog`, with an empty shelf until the first
    /// [`Storefront::refresh`].
    pub fn new(catalog: Arc<dyn Catalog>, clock: Arc<dyn Clock>) -> Self {
        Self {
            catalog,
            clock,
            shelf: RwLock::new(Arc::new(Shelf::default())),
        }
    }

    /// The shelf as last built.
    pub fn shelf(&self) -> Arc<Shelf> {
        Arc::clone(&self.shelf.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Rebuilds the shelf when the catalogue's version differs from the shelf's; answers
    /// whether it did. The version is read before the pieces, so a change made while they are
    /// read is caught by the next refresh.
    ///
    /// # Errors
    /// When storage fails (the shelf stays as it was).
    pub async fn refresh(&self) -> Result<bool, StoreError> {
        let version = self.catalog.version().await?;
        if self.shelf().version() == Some(version) {
            return Ok(false);
        }
        let mut products = Vec::new();
        let mut after: Option<Sku> = None;
        loop {
            let batch = self.catalog.active(after.take(), BATCH).await?;
            let full = batch.len() == BATCH as usize;
            after = batch.last().map(|p| p.draft.sku.clone());
            products.extend(batch);
            if !full {
                break;
            }
        }
        let built = Arc::new(Shelf::new(version, self.clock.now(), products));
        let mut shelf = self.shelf.write().unwrap_or_else(PoisonError::into_inner);
        // Two refreshes may race; the newer version stays.
        if shelf.version().is_none_or(|v| v <= version) {
            *shelf = built;
        }
        Ok(true)
    }
}
