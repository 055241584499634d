//! Webhooks: whatever arrives — signature header and body — the sandbox and Stripe gateways
//! answer without panicking. Half the inputs carry a valid signature over their body, so the
//! event parsing behind the signature check is reached too.
#![no_main]

use kikeru_domain::shop::ports::{InboundWebhook, PaymentGateway};
use kikeru_payment::{SandboxGateway, StripeConfig, StripeGateway, sign_header};
use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"whsec_fuzz";

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let now = time::macros::datetime!(2026-04-01 09:00 UTC);
    let split = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
    let (header, body) = rest.split_at(split);
    let body = body.get(1..).unwrap_or_default().to_vec();
    let header = if flags & 1 == 1 {
        sign_header(SECRET, now.unix_timestamp(), &body)
    } else {
        String::from_utf8_lossy(header).into_owned()
    };
    let webhook = InboundWebhook {
        body,
        headers: vec![
            ("kikeru-sandbox-signature".to_owned(), header.clone()),
            ("stripe-signature".to_owned(), header),
        ],
    };
    let sandbox = SandboxGateway::new("http://127.0.0.1:8080", SECRET.to_vec());
    let _ = sandbox.verify_webhook(&webhook, now);
    let stripe = StripeGateway::new(StripeConfig {
        api_base: "http://127.0.0.1:9".to_owned(),
        secret_key: "sk_test_fuzz".to_owned(),
        webhook_secrets: vec![String::from_utf8_lossy(SECRET).into_owned()],
        timeout: std::time::Duration::from_secs(1),
    });
    let _ = stripe.verify_webhook(&webhook, now);
});
