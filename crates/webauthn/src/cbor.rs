//! The part of CBOR (RFC 8949) WebAuthn uses: definite-length integers, byte and text
//! strings, arrays, maps, booleans and null. Every length is checked against the input before
//! anything is allocated, and nesting is bounded, so no input makes it panic, loop or
//! allocate more than the input's size.

/// A decoded item, borrowing its strings from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cbor<'a> {
    /// A non-negative integer.
    Uint(u64),
    /// A negative integer `-1 - n`.
    Nint(u64),
    /// A byte string.
    Bytes(&'a [u8]),
    /// A text string.
    Text(&'a str),
    /// An array.
    Array(Vec<Cbor<'a>>),
    /// A map, in its order.
    Map(Vec<(Cbor<'a>, Cbor<'a>)>),
    /// `true` or `false`.
    Bool(bool),
    /// `null` (or `undefined`).
    Null,
}

/// The input is not CBOR this decoder reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CborError;

const MAX_DEPTH: usize = 8;

impl<'a> Cbor<'a> {
    /// Decodes one item from the front of `input`; returns it and the rest.
    ///
    /// # Errors
    /// [`CborError`] for truncated, indefinite-length, too deep or unsupported input.
    pub fn decode(input: &'a [u8]) -> Result<(Self, &'a [u8]), CborError> {
        decode(input, 0)
    }

    /// Decodes exactly one item that fills `input`.
    ///
    /// # Errors
    /// [`CborError`], also when bytes follow the item.
    pub fn decode_all(input: &'a [u8]) -> Result<Self, CborError> {
        match Self::decode(input)? {
            (item, []) => Ok(item),
            _ => Err(CborError),
        }
    }

    /// The value of a map's entry whose key is the text `key`.
    pub fn get_text(&self, key: &str) -> Option<&Self> {
        match self {
            Self::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_text() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value of a map's entry whose key is the integer `key`.
    pub fn get_int(&self, key: i64) -> Option<&Self> {
        match self {
            Self::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_int() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The item as an integer, when it is one that fits.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Self::Uint(n) => i64::try_from(*n).ok(),
            Self::Nint(n) => i64::try_from(*n).ok().map(|n| -1 - n),
            _ => None,
        }
    }

    /// The item as bytes, when it is a byte string.
    pub const fn as_bytes(&self) -> Option<&'a [u8]> {
        match self {
            Self::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The item as text, when it is a text string.
    pub const fn as_text(&self) -> Option<&'a str> {
        match self {
            Self::Text(t) => Some(t),
            _ => None,
        }
    }
}

fn take(input: &[u8], n: u64) -> Result<(&[u8], &[u8]), CborError> {
    let n = usize::try_from(n).map_err(|_| CborError)?;
    if input.len() < n {
        return Err(CborError);
    }
    Ok(input.split_at(n))
}

fn argument(info: u8, input: &[u8]) -> Result<(u64, &[u8]), CborError> {
    let width = match info {
        0..=23 => return Ok((u64::from(info), input)),
        24 => 1,
        25 => 2,
        26 => 4,
        27 => 8,
        // 28–30 are reserved; 31 is an indefinite length, which WebAuthn never uses.
        _ => return Err(CborError),
    };
    let (bytes, rest) = take(input, width)?;
    let value = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    Ok((value, rest))
}

fn decode(input: &[u8], depth: usize) -> Result<(Cbor<'_>, &[u8]), CborError> {
    if depth > MAX_DEPTH {
        return Err(CborError);
    }
    let (&first, rest) = input.split_first().ok_or(CborError)?;
    let major = first >> 5;
    let info = first & 0x1f;
    if major == 7 {
        return match info {
            20 => Ok((Cbor::Bool(false), rest)),
            21 => Ok((Cbor::Bool(true), rest)),
            22 | 23 => Ok((Cbor::Null, rest)),
            _ => Err(CborError),
        };
    }
    let (arg, mut rest) = argument(info, rest)?;
    match major {
        0 => Ok((Cbor::Uint(arg), rest)),
        1 => Ok((Cbor::Nint(arg), rest)),
        2 => {
            let (bytes, rest) = take(rest, arg)?;
            Ok((Cbor::Bytes(bytes), rest))
        }
        3 => {
            let (bytes, rest) = take(rest, arg)?;
            let text = std::str::from_utf8(bytes).map_err(|_| CborError)?;
            Ok((Cbor::Text(text), rest))
        }
        4 => {
            // Every item takes at least one byte: a count beyond the input is a lie.
            if arg > rest.len() as u64 {
                return Err(CborError);
            }
            let mut items = Vec::with_capacity(usize::try_from(arg).map_err(|_| CborError)?);
            for _ in 0..arg {
                let (item, next) = decode(rest, depth + 1)?;
                items.push(item);
                rest = next;
            }
            Ok((Cbor::Array(items), rest))
        }
        5 => {
            if arg.saturating_mul(2) > rest.len() as u64 {
                return Err(CborError);
            }
            let mut entries = Vec::with_capacity(usize::try_from(arg).map_err(|_| CborError)?);
            for _ in 0..arg {
                let (key, next) = decode(rest, depth + 1)?;
                let (value, next) = decode(next, depth + 1)?;
                entries.push((key, value));
                rest = next;
            }
            Ok((Cbor::Map(entries), rest))
        }
        // Tags (major 6) do not occur in WebAuthn's structures.
        _ => Err(CborError),
    }
}

/// Writing CBOR, for the software authenticator.
#[cfg(any(test, feature = "software-authenticator"))]
pub(crate) mod write {
    fn head(out: &mut Vec<u8>, major: u8, n: u64) {
        let major = major << 5;
        if n < 24 {
            out.push(major | n as u8);
        } else if let Ok(n) = u8::try_from(n) {
            out.extend_from_slice(&[major | 24, n]);
        } else if let Ok(n) = u16::try_from(n) {
            out.push(major | 25);
            out.extend_from_slice(&n.to_be_bytes());
        } else if let Ok(n) = u32::try_from(n) {
            out.push(major | 26);
            out.extend_from_slice(&n.to_be_bytes());
        } else {
            out.push(major | 27);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }

    /// An integer.
    pub(crate) fn int(out: &mut Vec<u8>, n: i64) {
        if n >= 0 {
            head(out, 0, n.unsigned_abs());
        } else {
            head(out, 1, (-1 - n).unsigned_abs());
        }
    }

    /// A byte string.
    pub(crate) fn bytes(out: &mut Vec<u8>, b: &[u8]) {
        head(out, 2, b.len() as u64);
        out.extend_from_slice(b);
    }

    /// A text string.
    pub(crate) fn text(out: &mut Vec<u8>, t: &str) {
        head(out, 3, t.len() as u64);
        out.extend_from_slice(t.as_bytes());
    }

    /// The head of a map of `n` entries (the entries follow).
    pub(crate) fn map(out: &mut Vec<u8>, n: usize) {
        head(out, 5, n as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_the_items_webauthn_uses() {
        let mut out = Vec::new();
        write::map(&mut out, 3);
        write::text(&mut out, "fmt");
        write::text(&mut out, "none");
        write::int(&mut out, -7);
        write::bytes(&mut out, &[1, 2, 3]);
        write::int(&mut out, 300);
        out.extend_from_slice(&[0x82, 0xf5, 0xf6]);
        let item = Cbor::decode_all(&out).expect("decodes");
        assert_eq!(item.get_text("fmt"), Some(&Cbor::Text("none")));
        assert_eq!(
            item.get_int(-7).and_then(Cbor::as_bytes),
            Some(&[1u8, 2, 3][..])
        );
        assert_eq!(
            item.get_int(300),
            Some(&Cbor::Array(vec![Cbor::Bool(true), Cbor::Null]))
        );
        assert!(Cbor::decode_all(&[0x5f]).is_err(), "indefinite length");
        assert!(Cbor::decode_all(&[0x5a, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(Cbor::decode_all(&[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(Cbor::decode_all(&[0x81; 64]).is_err(), "too deep");
        assert!(Cbor::decode_all(&[0x01, 0x01]).is_err(), "trailing bytes");
    }

    proptest! {
        #[test]
        fn no_input_panics_or_claims_more_than_it_has(input in proptest::collection::vec(any::<u8>(), 0..256)) {
            if let Ok((_, rest)) = Cbor::decode(&input) {
                prop_assert!(rest.len() < input.len());
            }
        }
    }
}
