//! The error every storage port answers with.

/// A storage port failed. Few, backend-neutral variants.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record to change does not exist.
    #[error("not found")]
    NotFound,
    /// The change would break a uniqueness rule (e.g. an e-mail address already taken).
    #[error("conflict with an existing record")]
    Conflict,
    /// The backend cannot be reached or is overloaded; retrying later may succeed.
    #[error("storage unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else; a bug or a corrupt record.
    #[error("storage failed")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}
