//! COSE public keys (RFC 9052/9053) as authenticators send them, read by `coset` within bounds
//! of ours: at most [`MAX_KEY_BYTES`], nested at most [`MAX_DEPTH`] deep, in the canonical
//! encoding CTAP2 requires (so one key has one byte form), and only keys that can verify a
//! signature: a P-256 point on the curve, an Ed25519 point, an RSA modulus of 2048 to 8192 bits.

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ED25519, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256,
    RsaPublicKeyComponents,
};
use coset::iana::{self, EnumI64 as _};
use coset::{Algorithm, CborOrdering, CborSerializable as _, CoseKey, KeyType, Label};
use kikeru_domain::membership::passkey::PasskeyError;
use serde::de::IgnoredAny;

/// The largest COSE key read: an RSA key of 8192 bits (1,024 bytes) with its exponent and
/// labels fits with room to spare.
pub(crate) const MAX_KEY_BYTES: usize = 1200;
/// How deeply any CBOR read here may nest. Keys and attestation objects nest two or three
/// levels; the bound keeps a reader's work and memory proportional to its input.
pub(crate) const MAX_DEPTH: usize = 16;

/// The length of the one CBOR item at the start of `bytes`, read without keeping anything.
pub(crate) fn item_len(bytes: &[u8]) -> Option<usize> {
    let mut rest = bytes;
    ciborium::de::from_reader_with_recursion_limit::<IgnoredAny, _>(&mut rest, MAX_DEPTH).ok()?;
    Some(bytes.len() - rest.len())
}

/// A public key this service accepts, checked to be usable.
pub(crate) enum PublicKey {
    /// ECDSA P-256 with SHA-256.
    Es256(ParsedPublicKey),
    /// Ed25519.
    Ed25519(ParsedPublicKey),
    /// RSASSA-PKCS1-v1_5 with SHA-256: the modulus and exponent, big-endian.
    Rs256 { n: Vec<u8>, e: Vec<u8> },
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Es256(_) => "PublicKey::Es256",
            Self::Ed25519(_) => "PublicKey::Ed25519",
            Self::Rs256 { .. } => "PublicKey::Rs256",
        })
    }
}

impl PublicKey {
    /// Whether `signature` is this key's over `message`.
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Es256(key) | Self::Ed25519(key) => key.verify_sig(message, signature).is_ok(),
            Self::Rs256 { n, e } => RsaPublicKeyComponents { n, e }
                .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
                .is_ok(),
        }
    }
}

/// Reads a COSE key.
///
/// # Errors
/// [`PasskeyError::Malformed`] for anything but one canonical COSE key within the bounds;
/// [`PasskeyError::Unsupported`] for another key type, curve or algorithm;
/// [`PasskeyError::InvalidKey`] for a key that could never verify a signature.
pub(crate) fn public_key(cose: &[u8]) -> Result<PublicKey, PasskeyError> {
    let malformed = PasskeyError::Malformed("public key");
    if cose.len() > MAX_KEY_BYTES || item_len(cose) != Some(cose.len()) {
        return Err(malformed);
    }
    let key = CoseKey::from_slice(cose).map_err(|_| malformed)?;
    // One key, one encoding: shortest integers, definite lengths, no repeated label, labels in
    // CTAP2's canonical order. Written back canonically, it must be the bytes that came.
    let mut canonical = key.clone();
    canonical.canonicalize(CborOrdering::LengthFirstLexicographic);
    if canonical.to_vec().ok().as_deref() != Some(cose) {
        return Err(malformed);
    }
    let param = |label: i64| {
        key.params
            .iter()
            .find(|(l, _)| *l == Label::Int(label))
            .map(|(_, v)| v)
    };
    let int = |label: i64| {
        param(label)
            .and_then(|v| v.as_integer())
            .and_then(|i| i64::try_from(i).ok())
    };
    let bytes = |label: i64| param(label).and_then(|v| v.as_bytes());
    let kty = |t: iana::KeyType| key.kty == KeyType::Assigned(t);
    let alg = |a: iana::Algorithm| key.alg == Some(Algorithm::Assigned(a));
    if kty(iana::KeyType::EC2) && alg(iana::Algorithm::ES256) {
        let curve = int(iana::Ec2KeyParameter::Crv.to_i64());
        let (Some(x), Some(y)) = (
            bytes(iana::Ec2KeyParameter::X.to_i64()),
            bytes(iana::Ec2KeyParameter::Y.to_i64()),
        ) else {
            return Err(malformed);
        };
        if curve != Some(iana::EllipticCurve::P_256.to_i64()) {
            return Err(PasskeyError::Unsupported);
        }
        if x.len() != 32 || y.len() != 32 {
            return Err(malformed);
        }
        let point = [&[0x04], x.as_slice(), y.as_slice()].concat();
        // Parsing checks that the point is on the curve.
        return ParsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point)
            .map(PublicKey::Es256)
            .map_err(|_| PasskeyError::InvalidKey);
    }
    if kty(iana::KeyType::OKP) && alg(iana::Algorithm::EdDSA) {
        let curve = int(iana::OkpKeyParameter::Crv.to_i64());
        let Some(x) = bytes(iana::OkpKeyParameter::X.to_i64()) else {
            return Err(malformed);
        };
        if curve != Some(iana::EllipticCurve::Ed25519.to_i64()) {
            return Err(PasskeyError::Unsupported);
        }
        if x.len() != 32 {
            return Err(malformed);
        }
        return ParsedPublicKey::new(&ED25519, x)
            .map(PublicKey::Ed25519)
            .map_err(|_| PasskeyError::InvalidKey);
    }
    if kty(iana::KeyType::RSA) && alg(iana::Algorithm::RS256) {
        let (Some(n), Some(e)) = (
            bytes(iana::RsaKeyParameter::N.to_i64()),
            bytes(iana::RsaKeyParameter::E.to_i64()),
        ) else {
            return Err(malformed);
        };
        if !rsa_key_can_verify(n, e) {
            return Err(PasskeyError::InvalidKey);
        }
        return Ok(PublicKey::Rs256 {
            n: n.clone(),
            e: e.clone(),
        });
    }
    Err(PasskeyError::Unsupported)
}

/// An RSA key the verifier will use: a modulus of 2048 to 8192 bits (no leading zero byte),
/// odd, and an odd public exponent from 3 to 2³³ − 1 (what aws-lc accepts).
fn rsa_key_can_verify(n: &[u8], e: &[u8]) -> bool {
    let bits = |b: &[u8]| match b.first() {
        None | Some(0) => 0,
        Some(first) => (b.len() - 1) * 8 + (8 - first.leading_zeros() as usize),
    };
    let odd = |b: &[u8]| b.last().is_some_and(|last| last & 1 == 1);
    (2048..=8192).contains(&bits(n)) && odd(n) && (2..=33).contains(&bits(e)) && odd(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use coset::CoseKeyBuilder;

    fn es256(x: Vec<u8>, y: Vec<u8>) -> Vec<u8> {
        CoseKeyBuilder::new_ec2_pub_key(iana::EllipticCurve::P_256, x, y)
            .algorithm(iana::Algorithm::ES256)
            .build()
            .to_vec()
            .unwrap()
    }

    /// A real P-256 public point (the generator), so only what the test changes is wrong.
    fn generator() -> (Vec<u8>, Vec<u8>) {
        let hex = |s: &str| data_encoding::HEXLOWER.decode(s.as_bytes()).unwrap();
        (
            hex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"),
            hex("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"),
        )
    }

    #[test]
    fn a_p256_point_off_the_curve_is_refused_at_once() {
        let (x, y) = generator();
        assert!(matches!(
            public_key(&es256(x.clone(), y.clone())),
            Ok(PublicKey::Es256(_))
        ));
        let mut off = y;
        off[31] ^= 1;
        assert!(matches!(
            public_key(&es256(x, off)),
            Err(PasskeyError::InvalidKey)
        ));
    }

    #[test]
    fn rsa_keys_under_2048_bits_or_with_even_parts_are_refused() {
        let key = |n: Vec<u8>, e: Vec<u8>| {
            CoseKeyBuilder::new()
                .key_type(iana::KeyType::RSA)
                .algorithm(iana::Algorithm::RS256)
                .param(iana::RsaKeyParameter::N.to_i64(), n.into())
                .param(iana::RsaKeyParameter::E.to_i64(), e.into())
                .build()
                .to_vec()
                .unwrap()
        };
        let mut n2048 = vec![0xc5; 256];
        n2048[255] = 0x01;
        let e = vec![0x01, 0x00, 0x01];
        assert!(matches!(
            public_key(&key(n2048.clone(), e.clone())),
            Ok(PublicKey::Rs256 { .. })
        ));
        // 256 bytes, but the first is zero: 2040 bits.
        let mut short = n2048.clone();
        short[0] = 0;
        for (n, e) in [
            (short, e.clone()),
            (vec![0xc5; 128], e.clone()),
            (n2048.iter().map(|b| b & 0xfe).collect(), e.clone()),
            (n2048.clone(), vec![0x01, 0x00, 0x00]),
            (n2048, vec![0x01]),
        ] {
            assert!(
                matches!(public_key(&key(n, e)), Err(PasskeyError::InvalidKey)),
                "refused"
            );
        }
    }

    #[test]
    fn only_the_canonical_encoding_of_a_key_is_read() {
        let (x, y) = generator();
        let good = es256(x, y);
        assert!(public_key(&good).is_ok());
        // The same map with `3` (alg) written as a one-byte-follows integer (0x18 0x03).
        let at = good.iter().position(|b| *b == 0x03).unwrap();
        let long = [&good[..at], &[0x18, 0x03], &good[at + 1..]].concat();
        assert!(matches!(public_key(&long), Err(PasskeyError::Malformed(_))));
        // A repeated label: `1: 2` again at the end (and the map's count raised to 6).
        let mut repeated = good.clone();
        repeated[0] = 0xa6;
        repeated.extend_from_slice(&[0x01, 0x02]);
        assert!(matches!(
            public_key(&repeated),
            Err(PasskeyError::Malformed(_))
        ));
        // Trailing bytes.
        let mut trailing = good;
        trailing.push(0x00);
        assert!(matches!(
            public_key(&trailing),
            Err(PasskeyError::Malformed(_))
        ));
    }

    #[test]
    fn nesting_and_size_are_bounded_before_anything_is_kept() {
        // 12 KB of nested arrays, each declaring more items than there are bytes.
        let nested = vec![0x9a; 12 * 1024];
        assert!(matches!(
            public_key(&nested),
            Err(PasskeyError::Malformed(_))
        ));
        assert_eq!(item_len(&nested), None);
        let deep = [vec![0x81; MAX_DEPTH + 1], vec![0x00]].concat();
        assert_eq!(item_len(&deep), None);
        let shallow = [vec![0x81; 3], vec![0x00]].concat();
        assert_eq!(item_len(&shallow), Some(4));
    }

    #[test]
    fn other_key_types_are_unsupported() {
        let symmetric = CoseKeyBuilder::new_symmetric_key(vec![1; 32])
            .algorithm(iana::Algorithm::A256GCM)
            .build()
            .to_vec()
            .unwrap();
        assert!(matches!(
            public_key(&symmetric),
            Err(PasskeyError::Unsupported)
        ));
        assert!(
            matches!(public_key(&[0xa0]), Err(PasskeyError::Malformed(_))),
            "no key type"
        );
        assert!(matches!(public_key(&[]), Err(PasskeyError::Malformed(_))));
    }
}
