//! `order_lines`: what an order bought, as it was then (title and price snapshots).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub line: i32,
    pub product_id: Uuid,
    pub sku: String,
    pub title_ja: String,
    pub title_en: String,
    pub unit_price_minor: i64,
    pub currency: String,
    pub quantity: i32,
    pub tax_rate: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
