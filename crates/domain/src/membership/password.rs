//! Passwords: the policy a new password must meet, and the types that carry secrets.
//!
//! The policy follows OWASP ASVS 5.0 V6.2: a long minimum, a maximum that welcomes passphrases,
//! no composition rules, and rejection of common and easily guessed passwords. The reason is
//! returned so the page can explain it.

use std::fmt;

use zxcvbn::matching::patterns::MatchPattern;

/// The fewest characters a password may have.
pub const MIN_CHARS: usize = 12;
/// The most characters a password may have.
pub const MAX_CHARS: usize = 128;
/// The lowest accepted strength score (zxcvbn's 0–4 scale).
pub const MIN_SCORE: u8 = 3;
/// Sign-in attempts longer than this many bytes are refused before hashing, so that nobody can
/// make the server hash megabytes.
pub const MAX_ATTEMPT_BYTES: usize = 1024;

/// A new password that meets the policy. Its `Debug` never shows the secret.
#[derive(Clone)]
pub struct Password(String);

/// Why a new password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRejection {
    /// Fewer than [`MIN_CHARS`] characters.
    #[error("the password must have at least {min} characters")]
    TooShort {
        /// The minimum.
        min: usize,
    },
    /// More than [`MAX_CHARS`] characters.
    #[error("the password must have at most {max} characters")]
    TooLong {
        /// The maximum.
        max: usize,
    },
    /// It is one of the passwords attackers try first.
    #[error("the password is one of the most common passwords")]
    Common,
    /// It contains the member's own e-mail address or the service's name.
    #[error("the password contains your e-mail address or the name of the service")]
    Personal,
    /// It is built on a pattern guessers try first in Japan: the same kana over and over, the
    /// kana in 五十音 or いろは order, or a well-known word in romaji.
    #[error("the password follows a pattern that is easy to guess")]
    Predictable,
    /// It would be guessed quickly (strength score below [`MIN_SCORE`]).
    #[error("the password is too easy to guess")]
    TooWeak {
        /// The estimated strength, 0 (weakest) to 4.
        score: u8,
    },
}

impl PasswordRejection {
    /// A stable, machine-readable code for the reason.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "password_too_short",
            Self::TooLong { .. } => "password_too_long",
            Self::Common => "password_common",
            Self::Personal => "password_personal",
            Self::Predictable => "password_predictable",
            Self::TooWeak { .. } => "password_too_weak",
        }
    }
}

/// Words a member's password must not be built on, besides their own address.
const SERVICE_WORDS: &[&str] = &["minna", "kikeru", "minnakikeru", "みんな聞ける"];

impl Password {
    /// Checks a new password against the policy.
    ///
    /// `context` holds words tied to the member (their e-mail address, display name); a
    /// password that contains one of them, or the service's name, is refused.
    ///
    /// Common passwords are those of the compiled-in list of the zxcvbn estimator (30,000
    /// passwords from public breaches); a password that is one of them, even with
    /// look-alike substitutions or reversed, is refused as [`PasswordRejection::Common`].
    ///
    /// # Errors
    /// [`PasswordRejection`] names the first rule the password breaks, in the order: length,
    /// personal words, common passwords, strength.
    pub fn new(raw: &str, context: &[&str]) -> Result<Self, PasswordRejection> {
        let chars = raw.chars().count();
        if chars < MIN_CHARS {
            return Err(PasswordRejection::TooShort { min: MIN_CHARS });
        }
        if chars > MAX_CHARS {
            return Err(PasswordRejection::TooLong { max: MAX_CHARS });
        }
        let lowered = raw.to_lowercase();
        let personal = context
            .iter()
            .map(|word| word.trim().to_lowercase())
            .filter(|word| word.chars().count() >= 4)
            .chain(SERVICE_WORDS.iter().map(|word| (*word).to_owned()));
        for word in personal {
            if lowered.contains(&word) && word.chars().count() * 2 >= chars {
                return Err(PasswordRejection::Personal);
            }
        }
        if predictable(raw) {
            return Err(PasswordRejection::Predictable);
        }
        let mut inputs: Vec<&str> = context.to_vec();
        inputs.extend_from_slice(SERVICE_WORDS);
        let estimate = zxcvbn::zxcvbn(raw, &inputs);
        if is_common(estimate.sequence(), raw) {
            return Err(PasswordRejection::Common);
        }
        let score = u8::from(estimate.score());
        if score < MIN_SCORE {
            return Err(PasswordRejection::TooWeak { score });
        }
        Ok(Self(raw.to_owned()))
    }

    /// The secret, for the password hasher only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A password that just verified against its stored hash, to hash again with stronger
    /// parameters. It may predate the current policy, which must not lock its owner out.
    pub(crate) fn verified_for_rehash(attempt: PasswordAttempt) -> Self {
        Self(attempt.0)
    }
}

/// The kana in 五十音 order and in いろは order: runs of either are guessed first.
const KANA_ORDERS: [&str; 2] = [
    "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん",
    "いろはにほへとちりぬるをわかよたれそつねならむうゐのおくやまけふこえてあさきゆめみしゑひもせすん",
];

/// Words well known enough in Japan that a password made of one of them (with digits or
/// marks) is guessed early, whatever the breached-password list says.
const ROMAJI_WORDS: &[&str] = &[
    "aishiteru",
    "arigatou",
    "arigato",
    "daisuki",
    "doraemon",
    "ganbare",
    "ganbatte",
    "himitsu",
    "kawaii",
    "konnichiwa",
    "ohayou",
    "pokemon",
    "sakura",
    "sayonara",
    "naruto",
    "nippon",
    "tanjoubi",
    "tokyo",
    "yamato",
    "yoroshiku",
    "iroha",
    "aiueo",
];

/// Whether `raw` is built on a pattern guessed first in Japan (see
/// [`PasswordRejection::Predictable`]): after folding katakana to hiragana and dropping spaces,
/// the same few kana repeated (「ああいいうう…」, 「あいあいあい…」), kana mostly in 五十音 or
/// いろは order (either way), or one well-known word in romaji with only digits and marks
/// besides.
fn predictable(raw: &str) -> bool {
    let kana: Vec<char> = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{30A1}'..='\u{30F6}' => char::from_u32(u32::from(c) - 0x60).unwrap_or(c),
            _ => c,
        })
        .collect();
    let mut distinct = kana.clone();
    distinct.sort_unstable();
    distinct.dedup();
    // Three characters or fewer however long, a short unit over and over, or doubled kana.
    if distinct.len() <= 3 || repeats(&kana) {
        return true;
    }
    // Kana in one of the orders: count characters that continue a run of the order.
    for order in KANA_ORDERS {
        let order: Vec<char> = order.chars().collect();
        let position = |c: char| order.iter().position(|&o| o == c);
        let mut in_runs = 0;
        let mut run = 1;
        for pair in kana.windows(2) {
            let step = position(pair[0])
                .zip(position(pair[1]))
                .is_some_and(|(a, b)| a + 1 == b || b + 1 == a);
            if step {
                run += 1;
            } else {
                if run >= 4 {
                    in_runs += run;
                }
                run = 1;
            }
        }
        if run >= 4 {
            in_runs += run;
        }
        if in_runs * 2 > kana.len() {
            return true;
        }
    }
    let letters: String = raw
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let rest = raw.chars().filter(|c| !c.is_ascii_alphabetic());
    let plain = rest
        .clone()
        .all(|c| c.is_ascii_digit() || c.is_ascii_punctuation() || c == ' ');
    plain
        && (ROMAJI_WORDS.contains(&letters.as_str())
            || ROMAJI_WORDS.iter().any(|w| *w.repeat(2) == letters))
}

/// Whether `text` is each character doubled (「ああいいうう…」) or a unit of at most four
/// characters over and over.
fn repeats(text: &[char]) -> bool {
    let doubled = text.len() >= 4
        && text
            .chunks(2)
            .all(|pair| pair.len() == 2 && pair[0] == pair[1]);
    let cycled = (1..=4).any(|unit| {
        text.len() >= unit * 3 && text.iter().enumerate().all(|(i, c)| *c == text[i % unit])
    });
    doubled || cycled
}

/// The password is common when the estimator found it, whole, in its list of breached
/// passwords.
fn is_common(sequence: &[zxcvbn::matching::Match], raw: &str) -> bool {
    let total = raw.chars().count();
    sequence.iter().any(|m| {
        matches!(
            &m.pattern,
            // zxcvbn exports its dictionary names only through `Debug`.
            MatchPattern::Dictionary(d) if format!("{:?}", d.dictionary_name) == "Passwords"
        ) && m.i == 0
            && m.j + 1 >= total
    })
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A password typed at sign-in or to confirm a change. Not checked against the policy (old
/// passwords stay valid), only bounded in size. Its `Debug` never shows the secret.
#[derive(Clone)]
pub struct PasswordAttempt(String);

impl PasswordAttempt {
    /// Wraps a typed password. Returns `None` when it is empty or longer than
    /// [`MAX_ATTEMPT_BYTES`]; such an attempt can never be right.
    pub fn new(raw: &str) -> Option<Self> {
        (!raw.is_empty() && raw.len() <= MAX_ATTEMPT_BYTES).then(|| Self(raw.to_owned()))
    }

    /// The secret, for the password hasher only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<Password> for PasswordAttempt {
    fn from(password: Password) -> Self {
        Self(password.0)
    }
}

impl fmt::Debug for PasswordAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordAttempt(<redacted>)")
    }
}

/// A password hash as a PHC string (`$argon2id$v=19$m=…`).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHashString(String);

/// The string is not a PHC-format password hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a PHC password hash string")]
pub struct InvalidPasswordHash;

impl PasswordHashString {
    /// Accepts a PHC string, checking its syntax.
    ///
    /// # Errors
    /// [`InvalidPasswordHash`] when the string is not in PHC format.
    pub fn parse(phc: &str) -> Result<Self, InvalidPasswordHash> {
        password_hash::phc::PasswordHash::new(phc).map_err(|_| InvalidPasswordHash)?;
        Ok(Self(phc.to_owned()))
    }

    /// The PHC string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHashString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHashString(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, expected: Result<(), PasswordRejection>) {
        assert_eq!(
            Password::new(raw, &["hanako.yamada@example.jp", "hanako.yamada"]).map(|_| ()),
            expected,
            "password: {raw:?}"
        );
    }

    #[test]
    fn the_password_policy_accepts_long_unguessable_passwords_and_explains_refusals() {
        check("short", Err(PasswordRejection::TooShort { min: 12 }));
        for predictable in [
            "ああいいううええおおかか",
            "いろはにほへとちりぬるをわか",
            "あいうえおかきくけこさし",
            "アイウエオカキクケコサシ",
            "んをわろれるりらよゆやもめ",
            "あいあいあいあいあいあい",
            "さくらさくらさくらさくら",
            "aishiteru2024",
            "Doraemon1234!",
        ] {
            check(predictable, Err(PasswordRejection::Predictable));
        }
        check(
            &"x".repeat(129),
            Err(PasswordRejection::TooLong { max: 128 }),
        );
        check("hanako.yamada1", Err(PasswordRejection::Personal));
        check("minnakikeru2024", Err(PasswordRejection::Personal));
        check("1qaz2wsx3edc", Err(PasswordRejection::Common));
        check("LeaveMeAlone", Err(PasswordRejection::Common));
        check("aaaaaaaaaaaaaaaa", Err(PasswordRejection::Predictable));
        check("correct horse battery staple", Ok(()));
        check("静かな朝に猫とラジオを聴く", Ok(()));
        check("Tr0ub4dor&3-violet-lantern", Ok(()));
        check(&"plenty of words in a passphrase ".repeat(4)[..128], Ok(()));
    }

    #[test]
    fn twelve_characters_are_counted_as_characters_not_bytes() {
        // Eleven kana are 33 bytes but still too short.
        check(
            "あいうえおかきくけこさ",
            Err(PasswordRejection::TooShort { min: 12 }),
        );
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let password = Password::new("correct horse battery staple", &[]).unwrap();
        assert!(!format!("{password:?}").contains("horse"));
        let attempt = PasswordAttempt::new("hunter2").unwrap();
        assert!(!format!("{attempt:?}").contains("hunter2"));
    }

    #[test]
    fn attempts_are_bounded_in_size() {
        assert!(PasswordAttempt::new("").is_none());
        assert!(PasswordAttempt::new(&"a".repeat(MAX_ATTEMPT_BYTES)).is_some());
        assert!(PasswordAttempt::new(&"a".repeat(MAX_ATTEMPT_BYTES + 1)).is_none());
    }

    #[test]
    fn hash_strings_must_be_phc() {
        assert!(
            PasswordHashString::parse(
                "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"
            )
            .is_ok()
        );
        assert_eq!(PasswordHashString::parse("plain"), Err(InvalidPasswordHash));
    }
}
