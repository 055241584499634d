//! The small adapters that live with the binary: the system clock, the OS random source, the
//! argon2id password hasher, and the readiness probe.

use std::sync::Arc;

use argon2::{Algorithm, Argon2, Block, Params, Version};
use async_trait::async_trait;
use kikeru_domain::ports::{Clock, HasherError, PasswordHasher, Random, Verification};
use kikeru_domain::{Password, PasswordAttempt, PasswordHashString, Timestamp};
use password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use tokio::sync::OnceCell;
use tracing::Instrument;

/// The system clock, to the millisecond (the precision storage keeps).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(
        clippy::disallowed_methods,
        reason = "this is the Clock port's adapter"
    )]
    fn now(&self) -> Timestamp {
        let now = time::OffsetDateTime::now_utc();
        now.replace_nanosecond(now.nanosecond() / 1_000_000 * 1_000_000)
            .unwrap_or(now)
    }
}

/// The operating system's CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl Random for OsRandom {
    fn bytes32(&self) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        // The OS source failing is unrecoverable: there is no safe fallback for secrets.
        #[allow(
            clippy::expect_used,
            reason = "no secure way to continue without randomness"
        )]
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        bytes
    }
}

pub use kikeru_config::Argon2Cost;

/// Hashes with argon2id on tokio's blocking pool (never on the async executor), carrying the
/// caller's tracing span.
#[derive(Debug, Clone)]
pub struct Argon2Hasher {
    params: Params,
    dummy: Arc<OnceCell<String>>,
    /// At most one hash per core at a time: more would only share the CPU and multiply the
    /// memory (19 MiB or more each) — a burst of sign-ins waits its turn instead.
    lanes: Arc<tokio::sync::Semaphore>,
    memory: Arc<Workspaces>,
}

/// argon2's working memory, kept between hashes: one buffer per lane, so a hash costs the
/// allocator nothing and the process holds `lanes × memory cost` for hashing, however many
/// blocking threads take turns (freed 19 MiB blocks would otherwise stay behind in each
/// thread's malloc arena).
#[derive(Debug, Default)]
struct Workspaces(std::sync::Mutex<Vec<Vec<Block>>>);

impl Workspaces {
    fn with<T>(&self, blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
        let mut memory = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop()
            .unwrap_or_default();
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        let result = work(&mut memory[..blocks]);
        // What is left in it derives from a password: wipe it before it waits for the next.
        memory.fill(Block::default());
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(memory);
        result
    }
}

#[derive(Debug, thiserror::Error)]
enum HashFailure {
    #[error("argon2: {0}")]
    Argon2(String),
    #[error("the hashing task failed")]
    Join(#[from] tokio::task::JoinError),
}

/// argon2id (or whatever a stored hash names) of `secret` into `out`, in a kept workspace.
fn compute(
    memory: &Workspaces,
    argon2: &Argon2<'_>,
    params: &Params,
    secret: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    memory.with(params.block_count(), |blocks| {
        argon2.hash_password_into_with_memory(secret, salt, out, blocks)
    })
}

/// Whether `secret` matches the PHC string `stored`.
fn matches(memory: &Workspaces, secret: &[u8], stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map(Option::unwrap_or_default)
    else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    if compute(memory, &argon2, &params, secret, salt.as_ref(), &mut out).is_err() {
        return false;
    }
    // Output compares in constant time.
    Output::new(&out).is_ok_and(|computed| &computed == expected)
}

fn failure(e: HashFailure) -> HasherError {
    HasherError(Box::new(e))
}

impl Argon2Hasher {
    /// A hasher with these costs.
    ///
    /// # Errors
    /// When argon2 refuses the parameters.
    pub fn new(cost: Argon2Cost) -> Result<Self, String> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| e.to_string())?;
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Ok(Self {
            params,
            dummy: Arc::new(OnceCell::new()),
            lanes: Arc::new(tokio::sync::Semaphore::new(cores)),
            memory: Arc::new(Workspaces::default()),
        })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HasherError> {
        let span = tracing::Span::current();
        let lane = Arc::clone(&self.lanes)
            .acquire_owned()
            .await
            .map_err(|e| failure(HashFailure::Argon2(e.to_string())))?;
        let result = tokio::task::spawn_blocking(move || span.in_scope(work))
            .instrument(tracing::Span::current())
            .await
            .map_err(|e| failure(e.into()));
        drop(lane);
        result
    }

    async fn hash_secret(&self, secret: String) -> Result<String, HasherError> {
        let argon2 = self.argon2();
        let mut salt = [0u8; 16];
        salt.copy_from_slice(&OsRandom.bytes32()[..16]);
        let params = self.params.clone();
        let memory = Arc::clone(&self.memory);
        self.blocking(move || {
            let argon = |e: &dyn std::fmt::Display| failure(HashFailure::Argon2(e.to_string()));
            let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
            compute(
                &memory,
                &argon2,
                &params,
                secret.as_bytes(),
                &salt,
                &mut out,
            )
            .map_err(|e| argon(&e))?;
            let phc = PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params: ParamsString::try_from(&params).map_err(|e| argon(&e))?,
                salt: Some(Salt::new(&salt).map_err(|e| argon(&e))?),
                hash: Some(Output::new(&out).map_err(|e| argon(&e))?),
            };
            Ok(phc.to_string())
        })
        .await?
    }

    /// A hash of a random secret, made once, to verify unknown members against.
    async fn dummy_hash(&self) -> Result<String, HasherError> {
        self.dummy
            .get_or_try_init(|| async {
                let secret = hex(&OsRandom.bytes32());
                self.hash_secret(secret).await
            })
            .await
            .cloned()
    }

    fn is_current(&self, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return false;
        };
        parsed.algorithm.as_str() == "argon2id"
            && parsed.version == Some(0x13)
            && params.m_cost() >= self.params.m_cost()
            && params.t_cost() >= self.params.t_cost()
            && params.p_cost() >= self.params.p_cost()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    #[tracing::instrument(skip_all)]
    async fn hash(&self, password: &Password) -> Result<PasswordHashString, HasherError> {
        let phc = self.hash_secret(password.expose().to_owned()).await?;
        PasswordHashString::parse(&phc).map_err(|e| HasherError(Box::new(e)))
    }

    #[tracing::instrument(skip_all)]
    async fn verify(
        &self,
        attempt: &PasswordAttempt,
        hash: Option<PasswordHashString>,
    ) -> Result<Verification, HasherError> {
        let (phc, real) = match hash {
            Some(h) => (h.as_str().to_owned(), true),
            None => (self.dummy_hash().await?, false),
        };
        let secret = attempt.expose().to_owned();
        let stored = phc.clone();
        let memory = Arc::clone(&self.memory);
        // The parameters come from the stored hash itself.
        let matched = self
            .blocking(move || matches(&memory, secret.as_bytes(), &stored))
            .await?;
        Ok(match (matched && real, self.is_current(&phc)) {
            (true, current) => Verification::Match {
                needs_rehash: !current,
            },
            (false, _) => Verification::Mismatch,
        })
    }
}

/// `/readyz`: the database answers.
#[derive(Debug, Clone)]
pub struct StoreReadiness(pub kikeru_store::SqlStore);

#[async_trait]
impl kikeru_http::Readiness for StoreReadiness {
    async fn is_ready(&self) -> bool {
        self.0.ping().await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Argon2Hasher {
        Argon2Hasher::new(Argon2Cost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn hashes_agree_with_the_argon2_crates_own_phc_path() {
        use password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let hasher = cheap();
        let password = Password::new("correct horse battery staple", &[]).unwrap();
        let ours = hasher.hash(&password).await.unwrap();
        let reference = Argon2::default();
        assert!(
            reference
                .verify_password(b"correct horse battery staple", ours.as_str())
                .is_ok()
        );
        // A hash the crate made, with other costs, as older rows hold.
        let theirs = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(128, 2, 1, None).unwrap(),
        )
        .hash_password_with_salt(b"correct horse battery staple", b"0123456789abcdef")
        .unwrap()
        .to_string();
        let stored = PasswordHashString::parse(&theirs).unwrap();
        assert!(matches!(
            hasher
                .verify(&PasswordAttempt::from(password), Some(stored.clone()))
                .await
                .unwrap(),
            Verification::Match { .. }
        ));
        let wrong = PasswordAttempt::new("correct horse battery stapler").unwrap();
        assert_eq!(
            hasher.verify(&wrong, Some(stored)).await.unwrap(),
            Verification::Mismatch
        );
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher = cheap();
        let password = Password::new("correct horse battery staple", &[]).unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        let right = PasswordAttempt::from(password);
        let wrong = PasswordAttempt::new("correct horse battery stapler").unwrap();
        assert_eq!(
            hasher.verify(&right, Some(hash.clone())).await.unwrap(),
            Verification::Match {
                needs_rehash: false
            }
        );
        assert_eq!(
            hasher.verify(&wrong, Some(hash)).await.unwrap(),
            Verification::Mismatch
        );
    }

    #[tokio::test]
    async fn hashes_with_weaker_parameters_ask_for_a_rehash() {
        let password = Password::new("correct horse battery staple", &[]).unwrap();
        let old = cheap().hash(&password).await.unwrap();
        let stronger = Argon2Hasher::new(Argon2Cost {
            memory_kib: 128,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap();
        let attempt = PasswordAttempt::from(password);
        assert_eq!(
            stronger.verify(&attempt, Some(old)).await.unwrap(),
            Verification::Match { needs_rehash: true }
        );
    }

    #[tokio::test]
    async fn an_unknown_member_is_checked_against_a_dummy_and_never_matches() {
        let hasher = cheap();
        let attempt = PasswordAttempt::new("anything at all").unwrap();
        assert_eq!(
            hasher.verify(&attempt, None).await.unwrap(),
            Verification::Mismatch
        );
    }

    #[test]
    fn the_default_cost_meets_owasp() {
        assert!(Argon2Cost::OWASP.meets_owasp());
        assert!(
            !Argon2Cost {
                memory_kib: 1024,
                iterations: 2,
                parallelism: 1
            }
            .meets_owasp()
        );
    }
}
