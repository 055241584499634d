//! Embedding the domain: every use case built by `Services::new` on the in-memory storage
//! adapter, the test doubles of this crate, and one adapter written right here — a mailer that
//! prints. A member registers, verifies their address from the mail, buys a piece in the test
//! checkout, reads their purchase history and downloads their data export.
//!
//! Run it with `cargo run -p kikeru-testkit --example embed`. Replace any adapter with your own:
//! each port's conformance suite is in `kikeru-contract`.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use kikeru_domain::ports::{Mail, MailError, Message};
use kikeru_domain::prelude::*;
use kikeru_domain::privacy::export::{Export, Section};
use kikeru_domain::privacy::{DataCategory, Processor};
use kikeru_domain::shop::catalog::{AssetKey, Localized, ProductDraft, Sku};
use kikeru_domain::shop::ports::SandboxOutcome;
use kikeru_domain::{Currency, SessionToken};
use kikeru_memory::MemoryStore;
use kikeru_testkit::{
    CountingRandom, InsecureTestHasher, InsecureTestSealer, ManualClock, TEST_ORIGIN, TEST_RP_ID,
    TestGateway, settings,
};

/// The adapter this example brings: prints every mail, and keeps the last link token so the
/// "member" can click it.
#[derive(Debug, Default)]
struct PrintingMailer {
    last_token: Mutex<Option<SessionToken>>,
}

#[async_trait]
impl Mailer for PrintingMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        #[allow(clippy::print_stdout, reason = "this adapter prints")]
        {
            println!("mail to {}: {}", mail.to.as_str(), mail.message.kind());
        }
        if let Message::VerifyEmail { token } = &mail.message {
            *self
                .last_token
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(token.clone());
        }
        Ok(())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = Arc::new(MemoryStore::new());
    // The register of processors: mail may carry the address and the message; the test
    // payment provider receives order details only.
    store.register_processor(Processor {
        key: kikeru_domain::mail::outbox::MAIL_PROCESSOR.to_owned(),
        name: "Printing mailer".to_owned(),
        purpose: "mail".to_owned(),
        categories: kikeru_domain::mail::outbox::mail_categories(),
    });
    store.register_processor(Processor {
        key: "test".to_owned(),
        name: "Test payments".to_owned(),
        purpose: "payment".to_owned(),
        categories: [DataCategory::OrderDetails].into_iter().collect(),
    });
    let mailer = Arc::new(PrintingMailer::default());
    let gateway = Arc::new(TestGateway::default());
    let adapters = Adapters {
        store: store.clone(),
        unit: store.clone(),
        // Tests only: a real embedding hashes with argon2id and seals with AES-GCM.
        hasher: Arc::new(InsecureTestHasher),
        sealer: Arc::new(InsecureTestSealer::default()),
        passkeys: Arc::new(kikeru_webauthn::Verifier::new(TEST_RP_ID, TEST_ORIGIN)),
        gateway: gateway.clone(),
        simulator: Some(gateway),
        mailer: mailer.clone(),
        clock: Arc::new(ManualClock::new(
            time::macros::datetime!(2026-04-01 09:00 UTC),
        )),
        random: Arc::new(CountingRandom::default()),
    };
    let services = Services::new(&adapters, settings(MembershipConfig::default()));

    // The catalogue: one piece at ¥1,100, tax included.
    services
        .shop
        .import(vec![ProductDraft {
            sku: Sku::parse("YUUNAGI-01")?,
            title: Localized::title("夕凪の子守唄", "Evening Calm Lullaby")?,
            description: Localized::description("海辺の録音", "Recorded by the sea")?,
            price: Money::new(1100, Currency::Jpy)?,
            active: true,
            audio: AssetKey::parse("audio/yuunagi.flac")?,
            sample: None,
            reading: None,
            creator: None,
            tags: Vec::new(),
            cover: None,
        }])
        .await?;

    // Register, verify from the mail, sign in.
    let client = Client {
        key: "192.0.2.1".to_owned(),
        browser: "Example".to_owned(),
    };
    let password = "correct horse battery staple";
    let registration = Registration {
        email: Email::parse("hanako@example.jp")?,
        password: password.to_owned(),
        language: Language::Ja,
    };
    services.membership.register(registration, &client).await?;
    services.postman.deliver_due().await?;
    let token = mailer
        .last_token
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
        .ok_or("no verification mail")?;
    services.membership.verify_email(&token).await?;
    let session = services
        .membership
        .sign_in("hanako@example.jp", password, &client, None)
        .await?;
    let who = services.membership.authenticate(&session.token).await?;

    // Buy in the test checkout: the provider's signed webhook pays the order.
    let product = services.shop.products(None, 1).await?[0].id;
    let placed = services
        .shop
        .place_order(&who.member, &[product], None)
        .await?;
    let reference = placed.payment.reference.ok_or("no checkout")?;
    services
        .shop
        .simulate(&reference, SandboxOutcome::Pay)
        .await?;
    services.postman.deliver_due().await?;

    // What they bought, when, at what price.
    let purchases = services.shop.purchases(who.member.id, None, 10).await?;
    #[allow(clippy::print_stdout, reason = "the example's report")]
    for p in &purchases {
        println!(
            "bought {} for {} yen on {}",
            p.item.title.ja(),
            p.item.unit_price.minor(),
            p.paid_at.date()
        );
    }
    if purchases.len() != 1 {
        return Err("the purchase is not in the history".into());
    }

    // Everything held about them, section by section.
    let mut export = Export::new(&services, who);
    let mut sections = 0;
    while let Some(section) = export.next().await? {
        sections += 1;
        if let Section::Purchases { page, .. } = &section {
            assert_eq!(page.len(), 1, "the export holds the purchase");
        }
    }
    #[allow(clippy::print_stdout, reason = "the example's report")]
    {
        println!("the export has {sections} sections");
    }
    Ok(())
}
