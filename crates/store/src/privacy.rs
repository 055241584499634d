//! Purposes and consent histories on sea-orm.

use async_trait::async_trait;
use kikeru_domain::consent::Consents;
use kikeru_domain::privacy::{ConsentRecord, DataCategory, Purpose, Transfer};
use kikeru_domain::{Localized, MemberId, StoreError};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};

use crate::entity::{consent_record, purpose};
use crate::{SqlStore, corrupt, from_millis, millis, store_error};

fn to_purpose(row: purpose::Model) -> Result<Purpose, StoreError> {
    let categories = row
        .categories
        .split(',')
        .filter(|c| !c.is_empty())
        .map(|c| DataCategory::from_name(c).ok_or_else(|| corrupt("data category")))
        .collect::<Result<_, _>>()?;
    Ok(Purpose {
        key: row.key,
        title: Localized::title(&row.title_ja, &row.title_en)
            .map_err(|_| corrupt("purpose title"))?,
        notice: Localized::description(&row.notice_ja, &row.notice_en)
            .map_err(|_| corrupt("notice"))?,
        notice_version: u32::try_from(row.notice_version).map_err(|_| corrupt("notice version"))?,
        recipient: row.recipient,
        categories,
        transfer: Transfer::from_name(&row.transfer).ok_or_else(|| corrupt("transfer"))?,
    })
}

#[async_trait]
impl Consents for SqlStore {
    async fn save_purpose(&self, p: &Purpose) -> Result<(), StoreError> {
        let categories: Vec<&str> = p.categories.iter().map(|c| c.as_str()).collect();
        let row = purpose::ActiveModel {
            key: Set(p.key.clone()),
            title_ja: Set(p.title.ja().to_owned()),
            title_en: Set(p.title.en().to_owned()),
            notice_ja: Set(p.notice.ja().to_owned()),
            notice_en: Set(p.notice.en().to_owned()),
            notice_version: Set(i32::try_from(p.notice_version).unwrap_or(i32::MAX)),
            recipient: Set(p.recipient.clone()),
            categories: Set(categories.join(",")),
            transfer: Set(p.transfer.as_str().to_owned()),
        };
        let upsert = OnConflict::column(purpose::Column::Key)
            .update_columns([
                purpose::Column::TitleJa,
                purpose::Column::TitleEn,
                purpose::Column::NoticeJa,
                purpose::Column::NoticeEn,
                purpose::Column::NoticeVersion,
                purpose::Column::Recipient,
                purpose::Column::Categories,
                purpose::Column::Transfer,
            ])
            .to_owned();
        purpose::Entity::insert(row)
            .on_conflict(upsert)
            .exec(&self.db)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn purposes(&self) -> Result<Vec<Purpose>, StoreError> {
        purpose::Entity::find()
            .order_by_asc(purpose::Column::Key)
            .all(&self.db)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(to_purpose)
            .collect()
    }

    async fn append(&self, r: &ConsentRecord) -> Result<(), StoreError> {
        let row = consent_record::ActiveModel {
            id: NotSet,
            member_id: Set(*r.member_id.as_uuid()),
            purpose: Set(r.purpose.clone()),
            granted: Set(r.granted),
            notice_version: Set(i32::try_from(r.notice_version).unwrap_or(i32::MAX)),
            at: Set(millis(r.at)),
            channel: Set(r.channel.clone()),
        };
        consent_record::Entity::insert(row)
            .exec(&self.db)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn history(&self, member: MemberId) -> Result<Vec<ConsentRecord>, StoreError> {
        consent_record::Entity::find()
            .filter(consent_record::Column::MemberId.eq(*member.as_uuid()))
            .order_by_asc(consent_record::Column::Id)
            .all(&self.db)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|r| {
                Ok(ConsentRecord {
                    member_id: MemberId::from_uuid(r.member_id),
                    purpose: r.purpose,
                    granted: r.granted,
                    notice_version: u32::try_from(r.notice_version)
                        .map_err(|_| corrupt("notice version"))?,
                    at: from_millis(r.at)?,
                    channel: r.channel,
                })
            })
            .collect()
    }
}
