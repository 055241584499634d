//! Inquiries as stored: their IDs, channels, attachments noted and answers.

use std::fmt;

use uuid::Uuid;

use crate::{Email, Language, MemberId, Timestamp};

/// An inquiry's ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InquiryId(pub(super) Uuid);

impl InquiryId {
    /// Wraps a UUID.
    pub const fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    /// The UUID.
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl fmt::Display for InquiryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How an inquiry arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// The contact form.
    Web,
    /// E-mail sent to the service.
    Mail,
}

impl Channel {
    /// The stable name (`web`, `mail`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Mail => "mail",
        }
    }

    /// The channel with this stable name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Web, Self::Mail]
            .into_iter()
            .find(|c| c.as_str() == name)
    }
}

/// An attachment of an inquiry by mail. Attachments are not stored: the inquiry notes what
/// came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentNote {
    /// Its file name, as the sender named it (empty when none).
    pub name: String,
    /// Its media type.
    pub content_type: String,
    /// Its decoded size in bytes.
    pub size: u64,
}

/// An operator's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Who answered (the operator's address).
    pub operator: String,
    /// The answer, as mailed.
    pub body: String,
    /// When.
    pub at: Timestamp,
}

/// An inquiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inquiry {
    /// Its ID.
    pub id: InquiryId,
    /// A short reference for people to quote (`Q-7K3M9XQA`).
    pub reference: String,
    /// The member who sent it while signed in, if any.
    pub member_id: Option<MemberId>,
    /// Where to answer.
    pub email: Email,
    /// The sender's name, if given.
    pub name: Option<String>,
    /// Its subject.
    pub subject: String,
    /// Its text.
    pub body: String,
    /// The language to answer in.
    pub language: Language,
    /// How it arrived.
    pub channel: Channel,
    /// The mail's `Message-ID`, for an inquiry by mail (a redelivery is recognised by it).
    pub message_id: Option<String>,
    /// What was attached to the mail (not stored).
    pub attachments: Vec<AttachmentNote>,
    /// When it arrived.
    pub received_at: Timestamp,
    /// Operators' answers, oldest first.
    pub answers: Vec<Answer>,
}

impl Inquiry {
    /// Whether no operator has answered yet.
    pub fn is_open(&self) -> bool {
        self.answers.is_empty()
    }
}
