//! [`Sealer`] with AES-256-GCM and HMAC-SHA-256 from aws-lc-rs (already in the build for TLS).
//! From each configured key (`second_factor_key`, and `second_factor_previous_keys` during a
//! rotation) HKDF-SHA-256 derives one key per use — stored secrets, tokens handed to visitors,
//! digests of recovery codes — and a key ID, so that a value says which key sealed it.
//!
//! The stored form is version 2, the 4-byte key ID, the 96-bit random nonce, then the
//! ciphertext and its tag; the context (the member's ID) is the associated data. Version 1 (no
//! key ID, sealed with the configured key itself) is still read for stored secrets, and stale.

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::{hkdf, hmac};
use kikeru_config::SealKey;
use kikeru_domain::ports::{SealError, SealPurpose, Sealer};

/// The stored form's version.
const VERSION: u8 = 2;
/// The version before key IDs and derived keys.
const LEGACY: u8 = 1;
/// The length of a key ID.
const ID_LEN: usize = 4;

/// One configured key and what is derived from it.
struct Keys {
    id: [u8; ID_LEN],
    stored: RandomizedNonceKey,
    visitor: RandomizedNonceKey,
    digest: hmac::Key,
    /// The configured key itself, which version 1 sealed with.
    legacy: RandomizedNonceKey,
}

impl Keys {
    fn new(key: &SealKey) -> Result<Self, SealError> {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"kikeru seal v2").extract(key.expose());
        let derive = |info: &[u8]| -> Result<[u8; 32], SealError> {
            let mut out = [0; 32];
            prk.expand(&[info], hkdf::HKDF_SHA256)
                .and_then(|okm| okm.fill(&mut out))
                .map_err(|_| SealError)?;
            Ok(out)
        };
        let aead =
            |bytes: [u8; 32]| RandomizedNonceKey::new(&AES_256_GCM, &bytes).map_err(|_| SealError);
        let id_bytes = derive(b"key id")?;
        let mut id = [0; ID_LEN];
        id.copy_from_slice(&id_bytes[..ID_LEN]);
        Ok(Self {
            id,
            stored: aead(derive(b"stored secrets")?)?,
            visitor: aead(derive(b"visitor tokens")?)?,
            digest: hmac::Key::new(hmac::HMAC_SHA256, &derive(b"digests")?),
            legacy: RandomizedNonceKey::new(&AES_256_GCM, key.expose()).map_err(|_| SealError)?,
        })
    }

    const fn for_purpose(&self, purpose: SealPurpose) -> &RandomizedNonceKey {
        match purpose {
            SealPurpose::StoredSecret => &self.stored,
            SealPurpose::VisitorToken => &self.visitor,
        }
    }
}

/// AES-256-GCM with a fresh random nonce for every seal, under the current key; what previous
/// keys sealed still opens.
pub struct AeadSealer {
    current: Keys,
    previous: Vec<Keys>,
}

impl std::fmt::Debug for AeadSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "AeadSealer(AES-256-GCM, <key redacted>, {} previous)",
            self.previous.len()
        )
    }
}

impl AeadSealer {
    /// A sealer with `key` alone.
    ///
    /// # Errors
    /// [`SealError`] if the cipher refuses the key (never for 32 bytes).
    pub fn new(key: &SealKey) -> Result<Self, SealError> {
        Self::rotating(key, &[])
    }

    /// A sealer that seals with `key` and still opens what `previous` keys sealed.
    ///
    /// # Errors
    /// [`SealError`] if the cipher refuses a key (never for 32 bytes).
    pub fn rotating(key: &SealKey, previous: &[SealKey]) -> Result<Self, SealError> {
        Ok(Self {
            current: Keys::new(key)?,
            previous: previous
                .iter()
                .filter(|k| *k != key)
                .map(Keys::new)
                .collect::<Result<_, _>>()?,
        })
    }

    fn ring(&self) -> impl Iterator<Item = &Keys> {
        std::iter::once(&self.current).chain(&self.previous)
    }
}

fn open_with(key: &RandomizedNonceKey, rest: &[u8], context: &[u8]) -> Result<Vec<u8>, SealError> {
    if rest.len() < NONCE_LEN + AES_256_GCM.tag_len() {
        return Err(SealError);
    }
    let (nonce, body) = rest.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError)?;
    let mut body = body.to_vec();
    let plain = key
        .open_in_place(nonce, Aad::from(context), &mut body)
        .map_err(|_| SealError)?;
    Ok(plain.to_vec())
}

impl Sealer for AeadSealer {
    fn seal(
        &self,
        purpose: SealPurpose,
        plain: &[u8],
        context: &[u8],
    ) -> Result<Vec<u8>, SealError> {
        let mut body = plain.to_vec();
        let nonce = self
            .current
            .for_purpose(purpose)
            .seal_in_place_append_tag(Aad::from(context), &mut body)
            .map_err(|_| SealError)?;
        let mut sealed = Vec::with_capacity(1 + ID_LEN + NONCE_LEN + body.len());
        sealed.push(VERSION);
        sealed.extend_from_slice(&self.current.id);
        sealed.extend_from_slice(nonce.as_ref());
        sealed.extend_from_slice(&body);
        Ok(sealed)
    }

    fn open(
        &self,
        purpose: SealPurpose,
        sealed: &[u8],
        context: &[u8],
    ) -> Result<Vec<u8>, SealError> {
        match sealed.split_first() {
            Some((&VERSION, rest)) if rest.len() >= ID_LEN => {
                let (id, rest) = rest.split_at(ID_LEN);
                let keys = self.ring().find(|k| k.id == id).ok_or(SealError)?;
                open_with(keys.for_purpose(purpose), rest, context)
            }
            // Stored secrets sealed before key IDs: any held key may be the one.
            Some((&LEGACY, rest)) if purpose == SealPurpose::StoredSecret => self
                .ring()
                .find_map(|k| open_with(&k.legacy, rest, context).ok())
                .ok_or(SealError),
            _ => Err(SealError),
        }
    }

    fn is_stale(&self, sealed: &[u8]) -> bool {
        match sealed.split_first() {
            Some((&VERSION, rest)) => rest.get(..ID_LEN) != Some(self.current.id.as_slice()),
            _ => true,
        }
    }

    fn digests(&self, data: &[u8]) -> Vec<[u8; 32]> {
        self.ring()
            .map(|k| {
                let mut digest = [0; 32];
                digest.copy_from_slice(hmac::sign(&k.digest, data).as_ref());
                digest
            })
            .collect()
    }
}

/// The file a sandbox keeps its generated key in, inside the data folder.
pub const SANDBOX_KEY_FILE: &str = "second-factor.key";

/// The sealer for `config`: its `second_factor_key`, or — in the sandbox, which may run
/// without one — a key generated once into the data folder (`second-factor.key`, readable by
/// its owner only) and read from there on every later start. Nodes that share a database
/// must share the key, so they configure it.
///
/// # Errors
/// When the sandbox key file cannot be read or written, or holds something other than a key.
pub fn sealer_for(config: &kikeru_config::Config) -> anyhow::Result<AeadSealer> {
    use anyhow::Context as _;
    let key = match &config.second_factor_key {
        Some(key) => key.clone(),
        None => {
            let path = config.data_dir.join(SANDBOX_KEY_FILE);
            sandbox_key(&path).with_context(|| {
                format!(
                    "the sandbox's second-factor key {} (or set second_factor_key)",
                    path.display()
                )
            })?
        }
    };
    AeadSealer::rotating(&key, &config.second_factor_previous_keys)
        .map_err(|_| anyhow::anyhow!("the second-factor key was refused"))
}

fn sandbox_key(path: &std::path::Path) -> anyhow::Result<SealKey> {
    use std::io::Write as _;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| anyhow::anyhow!("no random bytes"))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(data_encoding::BASE64.encode(&bytes).as_bytes())?;
            file.sync_all()?;
            Ok(SealKey::from_bytes(bytes))
        }
        // Made by an earlier start (or by another process starting at the same moment).
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let mut text = String::new();
            for _ in 0..50 {
                text = std::fs::read_to_string(path)?;
                if !text.trim().is_empty() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            SealKey::parse(&text).ok_or_else(|| anyhow::anyhow!("not a key of 32 bytes in base64"))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sandbox_key_is_made_once_and_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("data").join(SANDBOX_KEY_FILE);
        let first = sandbox_key(&path).expect("made");
        let again = sandbox_key(&path).expect("read");
        assert_eq!(first, again);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not a key").expect("write");
        assert!(sandbox_key(&path).is_err());
    }

    fn sealer(byte: u8) -> AeadSealer {
        AeadSealer::new(&SealKey::from_bytes([byte; 32])).expect("key")
    }

    #[test]
    fn aes_gcm_passes_the_sealer_contract() {
        kikeru_contract::sealer::a_sealed_secret_opens_only_with_its_key_purpose_and_context_and_unchanged(
            &sealer(1),
            &sealer(2),
        );
        assert!(!format!("{:?}", sealer(1)).contains("0101"));
    }

    #[test]
    fn a_rotated_key_passes_the_rotation_contract() {
        let rotated = AeadSealer::rotating(
            &SealKey::from_bytes([2; 32]),
            &[SealKey::from_bytes([1; 32])],
        )
        .expect("keys");
        kikeru_contract::sealer::a_rotated_key_still_opens_and_matches_what_the_previous_one_made(
            &sealer(1),
            &rotated,
        );
    }

    /// What version 1 sealed (the configured key itself, no key ID) still opens as a stored
    /// secret, and is stale; never as a visitor's token.
    #[test]
    fn version_one_secrets_still_open_and_are_stale() {
        let raw = RandomizedNonceKey::new(&AES_256_GCM, &[1; 32]).expect("key");
        let mut body = b"secret".to_vec();
        let nonce = raw
            .seal_in_place_append_tag(Aad::from(b"member-1".as_slice()), &mut body)
            .expect("seal");
        let old = [&[LEGACY][..], nonce.as_ref(), &body].concat();
        let sealer = sealer(1);
        assert_eq!(
            sealer
                .open(SealPurpose::StoredSecret, &old, b"member-1")
                .as_deref(),
            Ok(&b"secret"[..])
        );
        assert!(sealer.is_stale(&old));
        assert_eq!(
            sealer.open(SealPurpose::VisitorToken, &old, b"member-1"),
            Err(SealError)
        );
    }
}
