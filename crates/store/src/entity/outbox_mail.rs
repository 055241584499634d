//! `outbox`: mail waiting for delivery, and the trace of mail settled (without its content).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub member_id: Option<Uuid>,
    pub kind: String,
    pub to_address: Option<String>,
    pub language: String,
    /// The message as JSON, until the mail is settled.
    pub payload: Option<String>,
    pub created_at: i64,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub claim: Option<Uuid>,
    pub claimed_until: Option<i64>,
    pub settled_at: Option<i64>,
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
