//! The schema has no place for card data: no column of any table is named like one.

use kikeru_store::fixtures;
use sea_orm::{ConnectionTrait, Statement};

#[tokio::test]
async fn no_table_has_a_column_for_card_data() {
    let store = fixtures::sqlite()
        .await
        .expect("SQLite is always available");
    let db = store.connection();
    let backend = db.get_database_backend();
    let tables = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT name FROM sqlite_master WHERE type = 'table'",
        ))
        .await
        .unwrap();
    let mut columns = Vec::new();
    for table in &tables {
        let name: String = table.try_get("", "name").unwrap();
        let info = db
            .query_all_raw(Statement::from_string(
                backend,
                format!("PRAGMA table_info(\"{name}\")"),
            ))
            .await
            .unwrap();
        for column in info {
            columns.push(format!(
                "{name}.{}",
                column.try_get::<String>("", "name").unwrap()
            ));
        }
    }
    assert!(
        columns.iter().any(|c| c == "payments.reference"),
        "the walk finds columns: {columns:?}"
    );
    for column in &columns {
        let lower = column.to_lowercase();
        for word in [
            "card",
            "cvc",
            "cvv",
            "pan",
            "expiry",
            "exp_month",
            "exp_year",
        ] {
            let field = lower.rsplit('.').next().unwrap_or_default();
            assert!(
                !field.split('_').any(|part| part == word) && !field.contains("card"),
                "column {column} looks like card data"
            );
        }
    }
    store.teardown().await;
}
