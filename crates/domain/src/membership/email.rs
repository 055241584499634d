//! The e-mail address value: validated and normalised once, at the edge.

use std::fmt;

/// The longest address accepted, in bytes (RFC 5321's path limit less the angle brackets).
pub const MAX_LEN: usize = 254;

/// A syntactically valid, normalised e-mail address.
///
/// Normalisation trims surrounding white space and lower-cases the whole address, so that two
/// spellings of one mailbox are one member (addresses are compared case-insensitively).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

/// Why a string is not an acceptable e-mail address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Nothing but white space.
    #[error("the e-mail address is empty")]
    Empty,
    /// Longer than [`MAX_LEN`] bytes, or a local part longer than 64 bytes.
    #[error("the e-mail address is too long")]
    TooLong,
    /// Not of the form `local@domain.tld`.
    #[error("the e-mail address is not of the form name@example.com")]
    Malformed,
}

impl Email {
    /// Validates and normalises an address.
    ///
    /// Accepts `local@domain` where the local part is 1–64 printable ASCII characters without
    /// white space, quotes, angle brackets or a second `@`, and the domain is at least two
    /// dot-separated labels of letters, digits and hyphens (no leading or trailing hyphen).
    ///
    /// # Errors
    /// [`EmailError`] says which rule the input broke.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.len() > MAX_LEN {
            return Err(EmailError::TooLong);
        }
        let normalised = trimmed.to_ascii_lowercase();
        let (local, domain) = normalised.split_once('@').ok_or(EmailError::Malformed)?;
        if local.len() > 64 {
            return Err(EmailError::TooLong);
        }
        if !valid_local(local) || !valid_domain(domain) {
            return Err(EmailError::Malformed);
        }
        Ok(Self(normalised))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        self.0
            .split_once('@')
            .map_or(self.0.as_str(), |(local, _)| local)
    }
}

fn valid_local(local: &str) -> bool {
    !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b))
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.bytes().any(|b| b.is_ascii_alphabetic()))
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Shows only the first character and the domain, so that a stray `{:?}` in a log line does
/// not leak the address.
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (local, domain) = self.0.split_once('@').unwrap_or((&self.0, ""));
        let first = local.chars().next().unwrap_or('?');
        write!(f, "Email({first}…@{domain})")
    }
}

impl serde::Serialize for Email {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Email {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&str, EmailError>) {
        assert_eq!(
            Email::parse(input)
                .as_ref()
                .map(Email::as_str)
                .map_err(|e| *e),
            expected,
            "input: {input:?}"
        );
    }

    #[test]
    fn addresses_are_validated_and_normalised() {
        check("Hanako@Example.JP", Ok("hanako@example.jp"));
        check(
            "  taro.yamada+music@example.co.jp \n",
            Ok("taro.yamada+music@example.co.jp"),
        );
        check("a@b.io", Ok("a@b.io"));
        check("", Err(EmailError::Empty));
        check("   ", Err(EmailError::Empty));
        check("no-at-sign.example.com", Err(EmailError::Malformed));
        check("two@@example.com", Err(EmailError::Malformed));
        check("a@b@example.com", Err(EmailError::Malformed));
        check("@example.com", Err(EmailError::Malformed));
        check("name@", Err(EmailError::Malformed));
        check("name@localhost", Err(EmailError::Malformed));
        check("name@-bad.com", Err(EmailError::Malformed));
        check("name@example.123", Err(EmailError::Malformed));
        check("with space@example.com", Err(EmailError::Malformed));
        check(".dot@example.com", Err(EmailError::Malformed));
        check("do..t@example.com", Err(EmailError::Malformed));
        check("名前@example.jp", Err(EmailError::Malformed));
        check("<a@example.com>", Err(EmailError::Malformed));
        check(
            &format!("{}@example.com", "a".repeat(65)),
            Err(EmailError::TooLong),
        );
        check(
            &format!("a@{}.com", "b".repeat(250)),
            Err(EmailError::TooLong),
        );
    }

    #[test]
    fn debug_output_does_not_show_the_whole_address() {
        let email = Email::parse("hanako@example.jp").unwrap();
        assert_eq!(format!("{email:?}"), "Email(h…@example.jp)");
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics_and_a_parsed_address_reparses_to_itself(input in ".{0,300}") {
            if let Ok(email) = Email::parse(&input) {
                proptest::prop_assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
                proptest::prop_assert!(email.as_str().len() <= MAX_LEN);
            }
        }
    }
}
