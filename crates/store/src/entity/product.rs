//! `products`: the catalogue; `sku` is unique. Prices are tax-inclusive minor units.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub sku: String,
    pub title_ja: String,
    pub title_en: String,
    pub description_ja: String,
    pub description_en: String,
    pub price_minor: i64,
    pub currency: String,
    pub active: bool,
    pub audio: String,
    pub sample: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Both titles, folded for search.
    pub search_title: String,
    /// Both descriptions, folded for search.
    pub search_body: String,
    /// How the Japanese title is read, in kana.
    pub title_reading: Option<String>,
    pub creator_key: Option<String>,
    pub creator_ja: Option<String>,
    pub creator_en: Option<String>,
    /// One tag per line.
    pub tags: String,
    /// The cover image's asset key, and its size in pixels.
    pub cover: Option<String>,
    pub cover_width: Option<i32>,
    pub cover_height: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
