//! [`Sealer`] with AES-256-GCM from aws-lc-rs (already in the build for TLS): second-factor
//! secrets are stored encrypted under the configured `second_factor_key`, each bound to its
//! context (the member's ID) so that a sealed secret copied to another row does not open.
//!
//! The stored form is a version byte, the 96-bit random nonce, then the ciphertext and its tag.

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use kikeru_config::SealKey;
use kikeru_domain::ports::{SealError, Sealer};

/// The stored form's version.
const VERSION: u8 = 1;

/// AES-256-GCM with a fresh random nonce for every seal.
pub struct AeadSealer(RandomizedNonceKey);

impl std::fmt::Debug for AeadSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AeadSealer(AES-256-GCM, <key redacted>)")
    }
}

impl AeadSealer {
    /// A sealer with `key`.
    ///
    /// # Errors
    /// [`SealError`] if the cipher refuses the key (never for 32 bytes).
    pub fn new(key: &SealKey) -> Result<Self, SealError> {
        RandomizedNonceKey::new(&AES_256_GCM, key.expose())
            .map(Self)
            .map_err(|_| SealError)
    }
}

impl Sealer for AeadSealer {
    fn seal(&self, plain: &[u8], context: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut body = plain.to_vec();
        let nonce = self
            .0
            .seal_in_place_append_tag(Aad::from(context), &mut body)
            .map_err(|_| SealError)?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + body.len());
        sealed.push(VERSION);
        sealed.extend_from_slice(nonce.as_ref());
        sealed.extend_from_slice(&body);
        Ok(sealed)
    }

    fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, SealError> {
        let Some((&VERSION, rest)) = sealed.split_first() else {
            return Err(SealError);
        };
        if rest.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(SealError);
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError)?;
        let mut body = body.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(context), &mut body)
            .map_err(|_| SealError)?;
        Ok(plain.to_vec())
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
    AeadSealer::new(&key).map_err(|_| anyhow::anyhow!("the second-factor key was refused"))
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
        kikeru_contract::sealer::a_sealed_secret_opens_only_with_its_key_and_context_and_unchanged(
            &sealer(1),
            &sealer(2),
        );
        assert!(!format!("{:?}", sealer(1)).contains("0101"));
    }
}
