//! The data export (開示): everything held about a member, section by section, for the member
//! to download from My Page. What it contains is decided here; an adapter only serialises the
//! sections in order. Purchases and payments come a page at a time, so a long history never
//! sits whole in memory.

use crate::membership::passkey::Passkey;
use crate::membership::{AuthError, Authenticated, FactorError, SecondFactorStatus};
use crate::office::inquiry::Inquiry;
use crate::privacy::ConsentRecord;
use crate::privacy::LedgerEntry;
use crate::privacy::consent::ConsentState;
use crate::services::Services;
use crate::shop::receipt::{Receipt, ReturnInvoice};
use crate::{
    Member, Payment, PaymentId, Purchase, PurchaseCursor, SecurityEvent, Session, StoreError,
};

/// How many purchases or payments one section holds at most.
pub const EXPORT_PAGE: u32 = 200;

/// The most security events exported.
pub const EXPORT_SECURITY_EVENTS: u32 = 10_000;

/// One section of the export, in the order [`Export::next`] yields them.
#[derive(Debug, Clone, PartialEq)]
pub enum Section {
    /// The member's account.
    Member(Member),
    /// Their sessions (devices signed in).
    Sessions(Vec<Session>),
    /// Their second factors.
    SecondFactors {
        /// Authenticator app, recovery codes.
        status: SecondFactorStatus,
        /// Their passkeys.
        passkeys: Vec<Passkey>,
    },
    /// The security events of their account.
    SecurityEvents(Vec<SecurityEvent>),
    /// Their consents: as they stand, and every grant and withdrawal.
    Consents {
        /// Per purpose, now.
        current: Vec<ConsentState>,
        /// Every change.
        history: Vec<ConsentRecord>,
    },
    /// The record of provision to third parties they may see now.
    Disclosures(Vec<LedgerEntry>),
    /// Their inquiries and the answers.
    Inquiries(Vec<Inquiry>),
    /// A page of purchases, newest first; `first` on the first page (there is always one, maybe
    /// empty).
    Purchases {
        /// The purchases.
        page: Vec<Purchase>,
        /// Whether this is the first page.
        first: bool,
    },
    /// A page of payment attempts, newest first; `first` on the first page.
    Payments {
        /// The payments.
        page: Vec<Payment>,
        /// Whether this is the first page.
        first: bool,
    },
    /// Receipts and return invoices issued to them.
    Receipts {
        /// Receipts.
        receipts: Vec<Receipt>,
        /// Return invoices.
        returns: Vec<ReturnInvoice>,
        /// What deleting the account would keep, and for how long (the last part).
        kept_after_deletion: Vec<crate::privacy::kept::KeptRecord>,
    },
}

/// The export could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The session ended or a backing service failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The second factors could not be read.
    #[error(transparent)]
    Factor(#[from] FactorError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where the export is.
#[derive(Debug, Clone)]
enum Step {
    Member,
    Sessions,
    SecondFactors,
    SecurityEvents,
    Consents,
    Disclosures,
    Inquiries,
    Purchases(Option<PurchaseCursor>, bool),
    Payments(Option<PaymentId>, bool),
    Receipts,
    Done,
}

/// The export of one signed-in member, read section by section.
#[derive(Debug)]
pub struct Export {
    services: Services,
    who: Authenticated,
    step: Step,
}

impl Export {
    /// The export of `who` (the caller checks first that their sign-in is recent: the export
    /// holds everything about them).
    pub fn new(services: &Services, who: Authenticated) -> Self {
        Self {
            services: services.clone(),
            who,
            step: Step::Member,
        }
    }

    /// The next section; `None` after the last.
    ///
    /// # Errors
    /// [`ExportError`]; the export stops there.
    pub async fn next(&mut self) -> Result<Option<Section>, ExportError> {
        let s = &self.services;
        let member = self.who.member.id;
        let (section, next) = match self.step.clone() {
            Step::Member => (Section::Member(self.who.member.clone()), Step::Sessions),
            Step::Sessions => (
                Section::Sessions(s.membership.sessions(&self.who).await?),
                Step::SecondFactors,
            ),
            Step::SecondFactors => (
                Section::SecondFactors {
                    status: s.membership.second_factor_status(&self.who).await?,
                    passkeys: s.membership.passkeys(&self.who).await?,
                },
                Step::SecurityEvents,
            ),
            Step::SecurityEvents => (
                Section::SecurityEvents(
                    s.membership
                        .security_events(&self.who, EXPORT_SECURITY_EVENTS)
                        .await?,
                ),
                Step::Consents,
            ),
            Step::Consents => {
                let (current, history) = s.consents.states(member).await?;
                (Section::Consents { current, history }, Step::Disclosures)
            }
            Step::Disclosures => (
                Section::Disclosures(s.disclosures.about(member).await?),
                Step::Inquiries,
            ),
            Step::Inquiries => (
                Section::Inquiries(s.contact.of_member(member).await?),
                Step::Purchases(None, true),
            ),
            Step::Purchases(after, first) => {
                let page = s.shop.purchases(member, after, EXPORT_PAGE).await?;
                let next = match page.last() {
                    Some(last) if page.len() == EXPORT_PAGE as usize => Step::Purchases(
                        Some(PurchaseCursor {
                            paid_at: last.paid_at,
                            order_id: last.order_id,
                            line: last.line,
                        }),
                        false,
                    ),
                    _ => Step::Payments(None, true),
                };
                (Section::Purchases { page, first }, next)
            }
            Step::Payments(before, first) => {
                let page = s.shop.payments(member, before, EXPORT_PAGE).await?;
                let next = match page.last() {
                    Some(last) if page.len() == EXPORT_PAGE as usize => {
                        Step::Payments(Some(last.id), false)
                    }
                    _ => Step::Receipts,
                };
                (Section::Payments { page, first }, next)
            }
            Step::Receipts => (
                Section::Receipts {
                    receipts: s.receipts.of_member(member).await?,
                    returns: s.receipts.returns_of_member(member).await?,
                    kept_after_deletion: crate::privacy::kept::kept_after_deletion(
                        &s.membership.config().retention,
                    ),
                },
                Step::Done,
            ),
            Step::Done => return Ok(None),
        };
        self.step = next;
        Ok(Some(section))
    }
}
