//! Versions of the privacy policy: operators publish a new version (a number, the day it takes
//! effect, and what changed in both languages); every member there was at publication is told
//! by mail, in their language, through the outbox — in batches that resume where they stopped,
//! so a crash or a second run never mails anyone twice — and My Page and the privacy page show
//! what changed. A purpose whose notice changes with it asks for consent again through the
//! notice versions of [`crate::privacy::Purpose`].

pub mod desk;

use async_trait::async_trait;
use time::Date;

use crate::office::operators::OperatorId;
use crate::{Language, MemberId, StoreError, Timestamp};

/// The version the service was first published with, before any was recorded.
pub const FIRST: (u32, Date) = (1, time::macros::date!(2026 - 12 - 05));

/// Members told per write.
pub const NOTICE_BATCH: u32 = 200;

/// The longest description of the changes, in characters.
pub const MAX_CHANGES: usize = 5_000;

/// A published version of the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    /// Its number (第N版), from 2 (1 is [`FIRST`]).
    pub number: u32,
    /// The day it takes effect.
    pub effective: Date,
    /// What changed, in Japanese.
    pub changes_ja: String,
    /// What changed, in English.
    pub changes_en: String,
    /// When it was published.
    pub published_at: Timestamp,
    /// Who published it (none: the command line).
    pub published_by: Option<OperatorId>,
    /// The last member told so far.
    pub notice_cursor: Option<MemberId>,
    /// How many members were told.
    pub notice_sent: u64,
    /// Whether every member there was at publication was told.
    pub notice_done: bool,
}

impl PolicyVersion {
    /// What changed, in `language`.
    pub fn changes(&self, language: Language) -> &str {
        match language {
            Language::Ja => &self.changes_ja,
            Language::En => &self.changes_en,
        }
    }
}

/// Published versions in storage; publication and the notice's progress are written through
/// [`UnitOfWork`] ([`Change::PublishPolicy`], [`Change::PolicyNoticeProgress`]).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PolicyVersions: Send + Sync + 'static {
    /// Every published version, oldest first.
    ///
    /// # Errors
    /// When storage fails.
    async fn versions(&self) -> Result<Vec<PolicyVersion>, StoreError>;
}
