//! The books against the real binary, after the Stripe journey (`stripe.rs`) sold three pieces
//! at 10%, refunded one and lost a dispute over another: `kikeru books export` sums exactly
//! what the receipts and return invoices say, `kikeru books verify` exits 0, and exits 1 naming
//! the order once a receipt is removed by hand.

use std::process::{Command, Output};

use serde_json::Value;

use crate::support::{Server, binary};

/// Runs `kikeru ARGS` with the server's settings.
fn kikeru(settings: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(binary());
    command.args(args).env_clear();
    for (key, value) in settings {
        command.env(key, value);
    }
    command.output().expect("run kikeru")
}

/// The tax in a tax-inclusive amount at 10%, rounded down (Japan's default rounding here).
fn tax_in(amount: i64) -> i64 {
    amount * 10 / 110
}

/// Checks the books of this fiscal year: `sold` (gross), `refunded` and `charged_back` are the
/// tax-inclusive prices; `order` is an order whose receipt is then removed by hand.
pub(crate) fn reconcile(
    server: Server,
    settings: &[(&str, &str)],
    database_url: &str,
    sold: &[i64],
    refunded: i64,
    charged_back: i64,
    order: &str,
) {
    let export = kikeru(settings, &["books", "export", "--format", "json"]);
    assert!(export.status.success(), "{export:?}");
    let books: Value = serde_json::from_slice(&export.stdout).expect("JSON books");
    let gross: i64 = sold.iter().sum();
    let totals = &books["totals"];
    assert_eq!(
        (
            totals["gross"].as_i64(),
            totals["refunds"].as_i64(),
            totals["chargebacks"].as_i64(),
            totals["net"].as_i64(),
            totals["receipts"].as_i64(),
            totals["returns"].as_i64(),
        ),
        (
            Some(gross),
            Some(refunded),
            Some(charged_back),
            Some(gross - refunded - charged_back),
            Some(i64::try_from(sold.len()).unwrap()),
            Some(2),
        ),
        "{books:#}"
    );
    let rate = &books["rates"][0];
    let sales_tax: i64 = sold.iter().map(|p| tax_in(*p)).sum();
    assert_eq!(
        (
            rate["rate"].as_i64(),
            rate["sales"]["tax"].as_i64(),
            rate["refunds"]["tax"].as_i64(),
            rate["chargebacks"]["tax"].as_i64(),
            rate["net"]["tax"].as_i64(),
        ),
        (
            Some(10),
            Some(sales_tax),
            Some(tax_in(refunded)),
            Some(tax_in(charged_back)),
            Some(sales_tax - tax_in(refunded) - tax_in(charged_back)),
        ),
        "{books:#}"
    );
    let journal = kikeru(settings, &["books", "export", "--format", "journal"]);
    let journal = String::from_utf8(journal.stdout).expect("UTF-8");
    assert_eq!(journal.lines().count(), 1 + sold.len() + 2, "{journal}");
    assert!(
        journal.contains("チャージバック 返還インボイス No."),
        "{journal}"
    );

    let verified = kikeru(settings, &["books", "verify"]);
    let said = String::from_utf8_lossy(&verified.stdout).into_owned();
    assert!(verified.status.success(), "{said} {verified:?}");
    assert!(said.contains("the books reconcile"), "{said}");

    // A receipt removed by hand (the service stopped, or it would issue the order another):
    // the order is paid without one, and its number is missing.
    drop(server);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        use kikeru_store::{SqlStore, StoreConfig};
        let store = SqlStore::connect(&StoreConfig::new(database_url))
            .await
            .expect("connect");
        let removed = kikeru_store::fixtures::execute(
            &store,
            &format!("DELETE FROM receipts WHERE order_id = '{order}'"),
        )
        .await;
        let removed = if removed == 0 {
            // SQLite keeps UUIDs as 16 bytes.
            let hex = order.replace('-', "");
            kikeru_store::fixtures::execute(
                &store,
                &format!("DELETE FROM receipts WHERE order_id = X'{hex}'"),
            )
            .await
        } else {
            removed
        };
        assert_eq!(removed, 1, "one receipt removed");
    });
    let broken = kikeru(settings, &["books", "verify"]);
    let said = String::from_utf8_lossy(&broken.stdout).into_owned();
    assert_eq!(broken.status.code(), Some(1), "{said} {broken:?}");
    assert!(
        said.contains(&format!("order {order} was paid but has no receipt")),
        "{said}"
    );
    assert!(
        said.contains("number 2 was given but no document holds it"),
        "{said}"
    );
}
