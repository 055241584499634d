//! Catalogue search on sea-orm: substring matching of the folded query against the folded
//! titles and descriptions, ranked as the domain ranks (`kikeru_domain::shop::search::rank`),
//! served by an FTS5 trigram table on SQLite and GIN trigram indexes on PostgreSQL. A pattern
//! of fewer than three characters has no trigram to look up; both then scan, which the
//! catalogue's size allows.

use super::*;
use kikeru_domain::shop::search::SearchQuery;

/// Active products matching `$1` (a `LIKE` pattern, `{escape}` its `ESCAPE` clause when it
/// needs one) in title or body, ranked by where `$2` (the query) is found; at most `$3`.
/// SQLite: through the FTS5 table, whose trigram index serves a plain `LIKE` of three
/// characters or more.
const SQLITE_SEARCH_SQL: &str = "\
    SELECT p.id FROM product_search s JOIN products p ON p.id = s.product_id \
    WHERE p.active AND (s.title LIKE $1 {escape} OR s.body LIKE $1 {escape}) \
    ORDER BY instr(s.title, $2) = 0, \
        CASE WHEN instr(s.title, $2) > 0 THEN instr(s.title, $2) ELSE instr(s.body, $2) END, \
        length(s.title), p.sku \
    LIMIT $3";

/// As [`SQLITE_SEARCH_SQL`], on PostgreSQL's columns and their trigram indexes.
const PG_SEARCH_SQL: &str = "\
    SELECT id FROM products \
    WHERE active AND (search_title LIKE $1 {escape} OR search_body LIKE $1 {escape}) \
    ORDER BY strpos(search_title, $2) = 0, \
        CASE WHEN strpos(search_title, $2) > 0 THEN strpos(search_title, $2) \
            ELSE strpos(search_body, $2) END, \
        length(search_title), sku \
    LIMIT $3";

/// `%query%`, with `LIKE`'s own characters escaped, and whether any was.
fn pattern(query: &str) -> (String, bool) {
    let mut out = String::with_capacity(query.len() + 2);
    out.push('%');
    for c in query.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    let escaped = out.len() > query.len() + 2;
    (out, escaped)
}

/// The ranked matches of `query`, at most `limit`.
pub(super) async fn find(
    db: &sea_orm::DatabaseConnection,
    query: &SearchQuery,
    limit: u32,
) -> Result<Vec<Product>> {
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Sqlite {
        SQLITE_SEARCH_SQL
    } else {
        PG_SEARCH_SQL
    };
    let (pattern, escaped) = pattern(query.folded());
    let sql = sql.replace("{escape}", if escaped { "ESCAPE '\\'" } else { "" });
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [
                pattern.into(),
                query.folded().to_owned().into(),
                i64::from(limit).into(),
            ],
        ))
        .await?;
    let ids: Vec<Uuid> = rows
        .iter()
        .map(|r| r.try_get::<Uuid>("", "id"))
        .collect::<std::result::Result<_, _>>()?;
    let mut found: std::collections::HashMap<Uuid, product::Model> = product::Entity::find()
        .filter(product::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    ids.iter()
        .filter_map(|id| found.remove(id))
        .map(to_product)
        .collect()
}

/// Keeps SQLite's FTS5 table in step with `products` just saved (PostgreSQL indexes the
/// columns themselves): their old rows go, a few hundred per statement (the product column of
/// the FTS table is not indexed, so each delete is one pass over it), and their new rows come.
pub(super) async fn index(txn: &sea_orm::DatabaseTransaction, products: &[Product]) -> Result<()> {
    if txn.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    for chunk in products.chunks(500) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
        let ids: Vec<Value> = chunk.iter().map(|p| (*p.id.as_uuid()).into()).collect();
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            format!(
                "DELETE FROM product_search WHERE product_id IN ({})",
                placeholders.join(", ")
            ),
            ids,
        ))
        .await?;
        for p in chunk {
            let keys = kikeru_domain::shop::search::keys(&p.draft);
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "INSERT INTO product_search (product_id, title, body) VALUES ($1, $2, $3)",
                [
                    (*p.id.as_uuid()).into(),
                    keys.title.into(),
                    keys.body.into(),
                ],
            ))
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_characters_in_a_query_are_matched_as_they_are() {
        assert_eq!(
            super::pattern("50%_off\\"),
            ("%50\\%\\_off\\\\%".to_owned(), true)
        );
        assert_eq!(super::pattern("子守唄"), ("%子守唄%".to_owned(), false));
    }
}
