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

#[cfg(test)]
mod tests {
    use super::*;

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
