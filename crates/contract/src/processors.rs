//! The [`Processors`] contract.

use kikeru_domain::privacy::{DataCategory, Processor, Processors};

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
