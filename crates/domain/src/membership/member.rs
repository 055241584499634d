//! Members: the unique ID, the profile values, and the member entity.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::{Email, PasswordHashString, Timestamp};

/// The unique ID assigned to a member at registration. Never reused: IDs are UUIDv7 values
/// drawn from the [`crate::kernel::ports::Random`] port, and a deleted member's ID is never assigned
/// again.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct MemberId(Uuid);

impl MemberId {
    /// Wraps a UUID (from the random port, or from storage).
    pub const fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    /// The UUID.
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemberId({})", self.0)
    }
}

/// The language a member reads the service in. Japanese is the default.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// 日本語.
    #[default]
    Ja,
    /// English.
    En,
}

impl Language {
    /// The BCP 47 tag (`ja`, `en`).
    pub const fn tag(self) -> &'static str {
        match self {
            Self::Ja => "ja",
            Self::En => "en",
        }
    }
}

/// The string is not a supported language tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unsupported language; use \"ja\" or \"en\"")]
pub struct UnsupportedLanguage;

impl FromStr for Language {
    type Err = UnsupportedLanguage;

    fn from_str(tag: &str) -> Result<Self, Self::Err> {
        match tag {
            "ja" => Ok(Self::Ja),
            "en" => Ok(Self::En),
            _ => Err(UnsupportedLanguage),
        }
    }
}

/// The most characters a display name may have.
pub const DISPLAY_NAME_MAX_CHARS: usize = 64;

/// The name a member chooses to be greeted by. May be empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DisplayName(String);

/// Why a display name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DisplayNameError {
    /// More than [`DISPLAY_NAME_MAX_CHARS`] characters.
    #[error("the display name must have at most {DISPLAY_NAME_MAX_CHARS} characters")]
    TooLong,
    /// Control characters (line breaks, tabs, …) are not allowed.
    #[error("the display name must not contain control characters")]
    ControlCharacter,
}

impl DisplayName {
    /// Validates a display name; surrounding white space is trimmed.
    ///
    /// # Errors
    /// [`DisplayNameError`] when it is too long or holds control characters.
    pub fn parse(input: &str) -> Result<Self, DisplayNameError> {
        let trimmed = input.trim();
        if trimmed.chars().count() > DISPLAY_NAME_MAX_CHARS {
            return Err(DisplayNameError::TooLong);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(DisplayNameError::ControlCharacter);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A member of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The unique ID.
    pub id: MemberId,
    /// The verified or not yet verified address; unique among members.
    pub email: Email,
    /// When the address was proven to reach the member; `None` until then.
    pub email_verified_at: Option<Timestamp>,
    /// The PHC hash of the password.
    pub password_hash: PasswordHashString,
    /// The name the member chose, possibly empty.
    pub display_name: DisplayName,
    /// The language of pages and mail.
    pub language: Language,
    /// When the member registered.
    pub created_at: Timestamp,
}

impl Member {
    /// Whether the member proved their address (required to buy).
    pub fn is_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(
            DisplayName::parse("  山田 花子 ").unwrap().as_str(),
            "山田 花子"
        );
        assert_eq!(DisplayName::parse("").unwrap().as_str(), "");
        assert_eq!(DisplayName::parse(&"あ".repeat(64)).map(|_| ()), Ok(()));
        assert_eq!(
            DisplayName::parse(&"あ".repeat(65)),
            Err(DisplayNameError::TooLong)
        );
        assert_eq!(
            DisplayName::parse("a\nb"),
            Err(DisplayNameError::ControlCharacter)
        );
    }

    #[test]
    fn languages_round_trip_through_their_tags() {
        for language in [Language::Ja, Language::En] {
            assert_eq!(language.tag().parse(), Ok(language));
        }
        assert_eq!("fr".parse::<Language>(), Err(UnsupportedLanguage));
        assert_eq!(Language::default(), Language::Ja);
    }
}
