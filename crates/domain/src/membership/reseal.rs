//! Sealing stored secrets again after a key rotation (see `second_factor_previous_keys` and
//! `kikeru member reseal`).

use super::{Change, Changes, Membership, StoreError};
use crate::kernel::ports::SealPurpose;
use crate::membership::second_factor::seal_context;

/// What sealing the stored secrets again did (see [`Membership::reseal_secrets`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResealReport {
    /// Sealed again under the current key.
    pub resealed: u64,
    /// Sealed under the current key already.
    pub current: u64,
    /// Changed by their member while this ran (a new enrolment, sealed under the current key).
    pub changed: u64,
    /// Opened by no key the sealer holds: their members must enrol again (or an operator
    /// resets their second factor).
    pub unreadable: u64,
}

impl Membership {
    /// Seals every stored authenticator-app secret that a previous key sealed again under the
    /// current one, a page at a time; after it, a previous key can be dropped from the
    /// configuration. Each replacement is conditional on the sealed value it read, so a member
    /// enrolling meanwhile loses nothing. (Recovery codes cannot be re-keyed: only their
    /// digests are kept. Their previous-key digests keep matching while the key is held; a
    /// member makes a new set to move to the current key.)
    ///
    /// # Errors
    /// When storage fails.
    pub async fn reseal_secrets(&self) -> Result<ResealReport, StoreError> {
        const PAGE: u32 = 200;
        let mut report = ResealReport::default();
        let mut after = None;
        loop {
            let page = self.ports.factors.totp_enrolments(after, PAGE).await?;
            let Some(last) = page.last() else {
                return Ok(report);
            };
            after = Some(last.member_id);
            for enrolment in page {
                if !self.ports.sealer.is_stale(&enrolment.sealed_secret) {
                    report.current += 1;
                    continue;
                }
                let context = seal_context(enrolment.member_id);
                let sealer = &self.ports.sealer;
                let Ok(plain) = sealer.open(
                    SealPurpose::StoredSecret,
                    &enrolment.sealed_secret,
                    &context,
                ) else {
                    report.unreadable += 1;
                    continue;
                };
                let to = sealer
                    .seal(SealPurpose::StoredSecret, &plain, &context)
                    .map_err(|e| StoreError::Other(Box::new(e)))?;
                let mut changes = Changes::new();
                changes.push(Change::ResealTotp {
                    member: enrolment.member_id,
                    from: enrolment.sealed_secret,
                    to,
                });
                match self.ports.unit.apply(changes).await {
                    Ok(()) => report.resealed += 1,
                    Err(StoreError::NotFound) => report.changed += 1,
                    Err(e) => return Err(e),
                }
            }
        }
    }
}
