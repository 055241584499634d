//! The storage port of inquiries.

use async_trait::async_trait;

use super::model::{Inquiry, InquiryId};
use crate::{MemberId, StoreError};

/// Stored inquiries. New inquiries and answers are written through
/// [`crate::changes::UnitOfWork`] with their mail.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Inquiries: Send + Sync + 'static {
    /// The inquiry with this ID, with its answers.
    ///
    /// # Errors
    /// When storage fails.
    async fn by_id(&self, id: InquiryId) -> Result<Option<Inquiry>, StoreError>;

    /// The inquiry whose mail had this `Message-ID`.
    ///
    /// # Errors
    /// When storage fails.
    async fn by_message_id(&self, message_id: &str) -> Result<Option<Inquiry>, StoreError>;

    /// Inquiries newest first, only the unanswered ones when `open_only`, at most `limit`.
    ///
    /// # Errors
    /// When storage fails.
    async fn list(&self, open_only: bool, limit: u32) -> Result<Vec<Inquiry>, StoreError>;

    /// The inquiries linked to the member (sent while signed in), oldest first. MUST NOT
    /// include any other, not even one that merely carries the member's address: anyone can
    /// type an address into a form or a `From` header.
    ///
    /// # Errors
    /// When storage fails.
    async fn for_member(&self, member: MemberId) -> Result<Vec<Inquiry>, StoreError>;
}
