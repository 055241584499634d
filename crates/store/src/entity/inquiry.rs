//! `inquiries`: the contact form's and the mailbox's inquiries.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inquiries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub reference: String,
    pub member_id: Option<Uuid>,
    pub email: String,
    pub name: Option<String>,
    pub subject: String,
    pub body: String,
    pub language: String,
    /// `web` or `mail`.
    pub channel: String,
    pub message_id: Option<String>,
    /// The attachments' names, types and sizes, as JSON.
    pub attachments: String,
    pub received_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
