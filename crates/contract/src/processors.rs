//! The [`Processors`] and [`Partners`] contracts.

use kikeru_domain::privacy::{DataCategory, Partner, Partners, Processor, Processors};

fn processor(key: &str, categories: &[DataCategory]) -> Processor {
    Processor {
        key: key.to_owned(),
        name: format!("{key} Inc."),
        purpose: "payment".to_owned(),
        categories: categories.iter().copied().collect(),
    }
}

/// Processors read back equal, by key; saving a key again replaces it.
pub async fn processors_are_saved_and_replaced_by_key(port: &dyn Processors) {
    port.save(&processor("stripe", &[DataCategory::OrderDetails]))
        .await
        .expect("save");
    port.save(&processor(
        "mail",
        &[DataCategory::EmailAddress, DataCategory::MessageContent],
    ))
    .await
    .expect("save");
    let wider = processor(
        "stripe",
        &[DataCategory::OrderDetails, DataCategory::EmailAddress],
    );
    port.save(&wider).await.expect("save again");
    let all = port.all().await.expect("all");
    assert_eq!(
        all,
        vec![
            processor(
                "mail",
                &[DataCategory::EmailAddress, DataCategory::MessageContent]
            ),
            wider
        ]
    );
}

fn partner(key: &str, address: &str) -> Partner {
    Partner {
        key: key.to_owned(),
        name: format!("{key} 株式会社"),
        address: address.to_owned(),
        representative: Some("代表取締役 山田花子".to_owned()),
        contact: "privacy@example.jp".to_owned(),
    }
}

/// Partners read back equal, by key; saving a key again replaces it.
pub async fn partners_are_saved_and_replaced_by_key(port: &dyn Partners) {
    port.save(&partner("label", "東京都港区1-2-3"))
        .await
        .expect("save");
    let mut broker = partner("broker", "大阪府大阪市北区4-5");
    broker.representative = None;
    port.save(&broker).await.expect("save");
    let moved = partner("label", "東京都渋谷区6-7");
    port.save(&moved).await.expect("save again");
    assert_eq!(port.all().await.expect("all"), vec![broker, moved]);
}
