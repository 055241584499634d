//! The domain's front door: every use case, built on one set of adapters by one constructor.
//!
//! An embedder implements the ports — one [`Store`] for every storage port, plus a password
//! hasher, a sealer, a passkey verifier, a payment provider, a mailer, a clock and randomness —
//! puts them in [`Adapters`], chooses [`Settings`], and calls [`Services::new`]. The server
//! binary, the in-memory test harness and the embedding example all start here.

use std::sync::Arc;

use crate::changes::UnitOfWork;
use crate::kernel::ports::{Clock, Random, RateLimits, Sealer};
use crate::mail::ports::Mailer;
use crate::mail::ports::Outbox;
use crate::mail::postman::{Postman, PostmanConfig, PostmanPorts};
use crate::membership::ports::PasskeyVerifier;
use crate::membership::ports::{
    AuditLog, Members, PasswordHasher, SecondFactors, Sessions, Tokens,
};
use crate::membership::{Membership, MembershipConfig, MembershipPorts};
use crate::office::incident::ports::Incidents;
use crate::office::incident::{IncidentDesk, IncidentPorts};
use crate::office::inquiry::ports::Inquiries;
use crate::office::inquiry::{ContactDesk, ContactLimits, ContactPorts};
use crate::office::ports::Operators;
use crate::office::service::{Office, OfficePorts};
use crate::privacy::consent::ConsentDesk;
use crate::privacy::disclosure::{DisclosureDesk, DisclosurePorts};
use crate::privacy::ports::Consents;
use crate::privacy::ports::Statistics;
use crate::privacy::ports::{Ledger, LegalOrders, Partners, Processors};
use crate::shop::legal::Seller;
use crate::shop::ports::Receipts;
use crate::shop::ports::{Catalog, Orders, PaymentGateway, SimulatedCheckout};
use crate::shop::receipt_desk::{ReceiptDesk, ReceiptPorts};
use crate::shop::{Shop, ShopConfig, ShopPorts};

/// Every storage port at once: what a storage adapter implements to run the whole domain.
/// Implemented for every type that implements each port; each port's conformance suite is in
/// `kikeru-contract`.
pub trait Store:
    Members
    + Sessions
    + Tokens
    + AuditLog
    + RateLimits
    + SecondFactors
    + UnitOfWork
    + Outbox
    + Catalog
    + Orders
    + Receipts
    + crate::office::books::ports::Books
    + Consents
    + Ledger
    + LegalOrders
    + Processors
    + Partners
    + Operators
    + Incidents
    + Inquiries
    + Statistics
    + crate::privacy::ports::PrivacyRequests
    + crate::privacy::policy::PolicyVersions
{
}

impl<T> Store for T where
    T: Members
        + Sessions
        + Tokens
        + AuditLog
        + RateLimits
        + SecondFactors
        + UnitOfWork
        + Outbox
        + Catalog
        + Orders
        + Receipts
        + crate::office::books::ports::Books
        + Consents
        + Ledger
        + LegalOrders
        + Processors
        + Partners
        + Operators
        + Incidents
        + Inquiries
        + Statistics
        + crate::privacy::ports::PrivacyRequests
        + crate::privacy::policy::PolicyVersions
{
}

/// The adapters the domain runs on.
pub struct Adapters<S> {
    /// Every storage port.
    pub store: Arc<S>,
    /// Atomic writes: usually the store itself; a server may wrap it (to wake its postman when
    /// mail is put in the outbox, for example).
    pub unit: Arc<dyn UnitOfWork>,
    /// Password hashing, for members and operators.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Encryption of second-factor secrets at rest.
    pub sealer: Arc<dyn Sealer>,
    /// Passkey (WebAuthn) signature checks for the site's relying party.
    pub passkeys: Arc<dyn PasskeyVerifier>,
    /// The payment provider.
    pub gateway: Arc<dyn PaymentGateway>,
    /// The test provider's checkout page, when the provider is a test one.
    pub simulator: Option<Arc<dyn SimulatedCheckout>>,
    /// Where the postman hands mail.
    pub mailer: Arc<dyn Mailer>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub random: Arc<dyn Random>,
}

impl<S> std::fmt::Debug for Adapters<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Adapters")
            .field("provider", &self.gateway.provider())
            .finish_non_exhaustive()
    }
}

/// The rules an operator may tune, per feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Sessions, rate limits, recent authentication.
    pub membership: MembershipConfig,
    /// Where the provider sends members back, what it may receive, the tax rules.
    pub shop: ShopConfig,
    /// Limits of the contact form.
    pub contact: ContactLimits,
    /// Retries and batches of mail delivery.
    pub postman: PostmanConfig,
    /// The seller named on receipts (適格請求書).
    pub seller: Seller,
    /// Requests under APPI: the due date's target, the mailed code, the limits.
    pub requests: crate::privacy::requests::desk::RequestPolicy,
    /// The books: when the fiscal year starts.
    pub books: crate::office::books::BookPolicy,
}

/// Every use case of the domain, one desk per feature.
#[derive(Debug, Clone)]
pub struct Services {
    /// Registration, sign-in, sessions, profile, second factors.
    pub membership: Membership,
    /// Catalogue, orders, payments, refunds.
    pub shop: Shop,
    /// The public catalogue in memory (shared by every clone of the services).
    pub storefront: Arc<crate::shop::storefront::Storefront>,
    /// Receipts and return invoices.
    pub receipts: ReceiptDesk,
    /// Purposes and consents.
    pub consents: ConsentDesk,
    /// Disclosures to third parties, their ledger, legal orders, the registers.
    pub disclosures: DisclosureDesk,
    /// Operators, their sign-in and their log.
    pub office: Office,
    /// Leak incidents.
    pub incidents: IncidentDesk,
    /// The contact form and inquiries.
    pub contact: ContactDesk,
    /// Requests under APPI (開示・訂正・利用停止).
    pub requests: crate::privacy::requests::desk::RequestDesk,
    /// Versions of the privacy policy and their notice to members.
    pub policy: crate::privacy::policy::desk::PolicyDesk,
    /// Mail for purposes members consented to.
    pub mailing: crate::privacy::mailing::PurposeMailer,
    /// Delivers the outbox.
    pub postman: Postman,
    /// The books: sales, returns and tax of a period, and their reconciliation.
    pub books: crate::office::books::BookKeeper,
}

impl Services {
    /// Builds every use case on `adapters` with `settings`.
    pub fn new<S: Store>(adapters: &Adapters<S>, settings: Settings) -> Self {
        let Adapters {
            store,
            unit,
            hasher,
            sealer,
            passkeys,
            gateway,
            simulator,
            mailer,
            clock,
            random,
        } = adapters;
        // Every counter is stored under a keyed digest, never a hash anyone could recompute.
        let limits: Arc<dyn crate::kernel::ports::RateLimits> = Arc::new(
            crate::kernel::throttle::KeyedLimits::new(store.clone(), sealer.clone()),
        );
        let membership = Membership::new(
            MembershipPorts {
                members: store.clone(),
                unit: unit.clone(),
                sessions: store.clone(),
                tokens: store.clone(),
                audit: store.clone(),
                rate_limits: limits.clone(),
                hasher: hasher.clone(),
                factors: store.clone(),
                sealer: sealer.clone(),
                passkeys: passkeys.clone(),
                processors: store.clone(),
                clock: clock.clone(),
                random: random.clone(),
            },
            settings.membership,
        );
        let receipts = ReceiptDesk::new(
            ReceiptPorts {
                receipts: store.clone(),
                clock: clock.clone(),
            },
            settings.shop.tax.clone(),
            settings.seller,
        );
        let shop = Shop::new(
            ShopPorts {
                catalog: store.clone(),
                orders: store.clone(),
                gateway: gateway.clone(),
                simulator: simulator.clone(),
                processors: store.clone(),
                members: store.clone(),
                clock: clock.clone(),
                random: random.clone(),
            },
            settings.shop,
        );
        let disclosures = DisclosureDesk::new(DisclosurePorts {
            ledger: store.clone(),
            consents: store.clone(),
            members: store.clone(),
            orders: store.clone(),
            legal_orders: store.clone(),
            processors: store.clone(),
            partners: store.clone(),
            requests: store.clone(),
            clock: clock.clone(),
            random: random.clone(),
        });
        let requests = crate::privacy::requests::desk::RequestDesk::new(
            crate::privacy::requests::desk::RequestPorts {
                requests: store.clone(),
                members: store.clone(),
                unit: unit.clone(),
                rate_limits: limits.clone(),
                processors: store.clone(),
                clock: clock.clone(),
                random: random.clone(),
            },
            settings.requests,
        );
        let mailing =
            crate::privacy::mailing::PurposeMailer::new(crate::privacy::mailing::MailingPorts {
                consents: store.clone(),
                requests: store.clone(),
                members: store.clone(),
                processors: store.clone(),
                unit: unit.clone(),
                clock: clock.clone(),
                random: random.clone(),
            });
        let policy = crate::privacy::policy::desk::PolicyDesk::new(
            crate::privacy::policy::desk::PolicyPorts {
                versions: store.clone(),
                incidents: store.clone(),
                members: store.clone(),
                unit: unit.clone(),
                clock: clock.clone(),
            },
        );
        let office = Office::new(OfficePorts {
            operators: store.clone(),
            rate_limits: limits.clone(),
            hasher: hasher.clone(),
            clock: clock.clone(),
            random: random.clone(),
        });
        let incidents = IncidentDesk::new(IncidentPorts {
            incidents: store.clone(),
            members: store.clone(),
            unit: unit.clone(),
            clock: clock.clone(),
            random: random.clone(),
        });
        let contact = ContactDesk::new(
            ContactPorts {
                inquiries: store.clone(),
                unit: unit.clone(),
                rate_limits: limits.clone(),
                processors: store.clone(),
                clock: clock.clone(),
                random: random.clone(),
            },
            settings.contact,
        );
        let postman = Postman::new(
            PostmanPorts {
                outbox: store.clone(),
                mailer: mailer.clone(),
                processors: store.clone(),
                audit: store.clone(),
                clock: clock.clone(),
                random: random.clone(),
            },
            settings.postman,
        );
        let books = crate::office::books::BookKeeper::new(
            crate::office::books::BookPorts {
                books: store.clone(),
                clock: clock.clone(),
            },
            settings.books,
        );
        Self {
            books,
            membership,
            storefront: shop.storefront(),
            shop,
            receipts,
            consents: ConsentDesk::new(store.clone(), clock.clone()),
            disclosures,
            office,
            incidents,
            contact,
            requests,
            policy,
            mailing,
            postman,
        }
    }
}
