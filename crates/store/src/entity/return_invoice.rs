//! `return_invoices`: issued return invoices, numbered, their content as issued (JSON).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "return_invoices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub number: i64,
    pub order_id: Uuid,
    /// The provider's case returned, `''` for a whole refund without one; unique with the order.
    pub case_ref: String,
    pub receipt_number: i64,
    pub member_id: Uuid,
    pub issued_at: i64,
    pub content: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
