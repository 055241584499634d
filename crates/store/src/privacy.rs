//! Purposes, consent histories and the disclosure ledger on sea-orm.

use async_trait::async_trait;
use kikeru_domain::privacy::ports::Consents;
use kikeru_domain::privacy::ports::{Ledger, LegalOrders, Partners, Processors};
use kikeru_domain::privacy::{
    Basis, ConsentRecord, DataCategory, LedgerDraft, LedgerEntry, LegalOrder, Partner, Processor,
    ProcessorProposal, Purpose, Recipient, RecipientDetails, Transfer,
};
use kikeru_domain::{Localized, MemberId, StoreError, Timestamp};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};

use crate::entity::{
    consent_record, ledger_entry, legal_order, legal_order_approval, partner, processor,
    processor_proposal, purpose,
};
use crate::{Error, Result, SqlStore, Stale, corrupt, from_millis, millis, operator_id};
use kikeru_domain::office::operators::OperatorId;

/// Category names, comma-separated, as stored.
fn categories_text(categories: &kikeru_domain::privacy::Categories) -> String {
    categories
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn categories_of(text: &str) -> Result<kikeru_domain::privacy::Categories> {
    text.split(',')
        .filter(|c| !c.is_empty())
        .map(|c| DataCategory::from_name(c).ok_or_else(|| corrupt("data category")))
        .collect()
}

fn to_purpose(row: purpose::Model) -> Result<Purpose> {
    let categories = categories_of(&row.categories)?;
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
        self.write(Stale::Nothing, async {
            let categories = categories_text(&p.categories);
            let row = purpose::ActiveModel {
                key: Set(p.key.clone()),
                title_ja: Set(p.title.ja().to_owned()),
                title_en: Set(p.title.en().to_owned()),
                notice_ja: Set(p.notice.ja().to_owned()),
                notice_en: Set(p.notice.en().to_owned()),
                notice_version: Set(i32::try_from(p.notice_version).unwrap_or(i32::MAX)),
                recipient: Set(p.recipient.clone()),
                categories: Set(categories),
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
                .await?;
            Ok(())
        })
        .await
    }

    async fn purposes(&self) -> Result<Vec<Purpose>, StoreError> {
        self.read(async {
            purpose::Entity::find()
                .order_by_asc(purpose::Column::Key)
                .all(&self.db)
                .await?
                .into_iter()
                .map(to_purpose)
                .collect()
        })
        .await
    }

    async fn consenters(
        &self,
        purpose: &str,
        after: Option<MemberId>,
        limit: u32,
    ) -> Result<Vec<MemberId>, StoreError> {
        self.read(async {
            let mut query = consent_record::Entity::find()
                .select_only()
                .column(consent_record::Column::MemberId)
                .distinct()
                .filter(consent_record::Column::Purpose.eq(purpose))
                .filter(consent_record::Column::Granted.eq(true));
            if let Some(after) = after {
                query = query.filter(consent_record::Column::MemberId.gt(*after.as_uuid()));
            }
            let ids: Vec<uuid::Uuid> = query
                .order_by_asc(consent_record::Column::MemberId)
                .limit(u64::from(limit))
                .into_tuple()
                .all(&self.db)
                .await?;
            Ok(ids.into_iter().map(MemberId::from_uuid).collect())
        })
        .await
    }

    async fn append(&self, r: &ConsentRecord) -> Result<(), StoreError> {
        self.write(Stale::Nothing, async {
            let row = consent_record::ActiveModel {
                id: NotSet,
                member_id: Set(*r.member_id.as_uuid()),
                purpose: Set(r.purpose.clone()),
                granted: Set(r.granted),
                notice_version: Set(i32::try_from(r.notice_version).unwrap_or(i32::MAX)),
                at: Set(millis(r.at)),
                channel: Set(r.channel.clone()),
            };
            consent_record::Entity::insert(row).exec(&self.db).await?;
            Ok(())
        })
        .await
    }

    async fn history(&self, member: MemberId) -> Result<Vec<ConsentRecord>, StoreError> {
        self.read(async {
            consent_record::Entity::find()
                .filter(consent_record::Column::MemberId.eq(*member.as_uuid()))
                .order_by_asc(consent_record::Column::Id)
                .all(&self.db)
                .await?
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
        })
        .await
    }
}

fn to_entry(row: ledger_entry::Model) -> Result<LedgerEntry> {
    let categories = categories_of(&row.categories)?;
    Ok(LedgerEntry {
        seq: u64::try_from(row.seq).map_err(|_| corrupt("ledger position"))?,
        at: from_millis(row.at)?,
        member_id: MemberId::from_uuid(row.member_id),
        recipient: Recipient::parse(&row.recipient).ok_or_else(|| corrupt("recipient"))?,
        recipient_details: RecipientDetails {
            name: row.recipient_name,
            address: row.recipient_address,
            representative: row.recipient_representative,
        },
        categories,
        basis: Basis::parse(&row.basis).ok_or_else(|| corrupt("basis"))?,
        visible_from: from_millis(row.visible_from)?,
        prev_hash: row
            .prev_hash
            .try_into()
            .map_err(|_| corrupt("ledger hash"))?,
        hash: row.hash.try_into().map_err(|_| corrupt("ledger hash"))?,
    })
}

#[async_trait]
impl Ledger for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn append(&self, draft: LedgerDraft) -> Result<LedgerEntry, StoreError> {
        self.transaction(Stale::Nothing, async |txn| {
            let backend = txn.get_database_backend();
            // Writing the head first takes the write lock, so appends line up one by one.
            txn.execute_raw(Statement::from_string(
                backend,
                "UPDATE ledger_head SET seq = seq + 1 WHERE id = 1",
            ))
            .await?;
            let head = txn
                .query_one_raw(Statement::from_string(
                    backend,
                    "SELECT seq FROM ledger_head WHERE id = 1",
                ))
                .await?
                .ok_or_else(|| corrupt("ledger head"))?;
            let seq: i64 = head.try_get_by_index(0)?;
            let prev_hash = match seq {
                1 => [0u8; 32],
                _ => {
                    let previous = ledger_entry::Entity::find_by_id(seq - 1).one(txn).await?;
                    let previous = previous.ok_or_else(|| corrupt("ledger gap"))?;
                    previous
                        .hash
                        .try_into()
                        .map_err(|_| corrupt("ledger hash"))?
                }
            };
            let entry = draft.chain_at(
                u64::try_from(seq).map_err(|_| corrupt("ledger position"))?,
                prev_hash,
            );
            let categories = categories_text(&entry.categories);
            let row = ledger_entry::ActiveModel {
                seq: Set(seq),
                at: Set(millis(entry.at)),
                member_id: Set(*entry.member_id.as_uuid()),
                recipient: Set(entry.recipient.to_string()),
                recipient_name: Set(entry.recipient_details.name.clone()),
                recipient_address: Set(entry.recipient_details.address.clone()),
                recipient_representative: Set(entry.recipient_details.representative.clone()),
                categories: Set(categories),
                basis: Set(entry.basis.to_text()),
                visible_from: Set(millis(entry.visible_from)),
                prev_hash: Set(entry.prev_hash.to_vec()),
                hash: Set(entry.hash.to_vec()),
            };
            ledger_entry::Entity::insert(row).exec(txn).await?;
            Ok(entry)
        })
        .await
    }

    async fn for_member(
        &self,
        member: MemberId,
        at: Timestamp,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        self.read(async {
            ledger_entry::Entity::find()
                .filter(ledger_entry::Column::MemberId.eq(*member.as_uuid()))
                .filter(ledger_entry::Column::VisibleFrom.lte(millis(at)))
                .order_by_asc(ledger_entry::Column::Seq)
                .all(&self.db)
                .await?
                .into_iter()
                .map(to_entry)
                .collect()
        })
        .await
    }

    async fn all(&self) -> Result<Vec<LedgerEntry>, StoreError> {
        self.read(async {
            ledger_entry::Entity::find()
                .order_by_asc(ledger_entry::Column::Seq)
                .all(&self.db)
                .await?
                .into_iter()
                .map(to_entry)
                .collect()
        })
        .await
    }
}

#[async_trait]
impl LegalOrders for SqlStore {
    async fn record(&self, o: &LegalOrder) -> Result<(), StoreError> {
        self.transaction(Stale::Nothing, async |txn| {
            let members: Vec<String> = o.members.iter().map(ToString::to_string).collect();
            let categories = categories_text(&o.categories);
            let row = legal_order::ActiveModel {
                id: Set(o.id.clone()),
                authority: Set(o.authority.clone()),
                reference: Set(o.reference.clone()),
                legal_basis: Set(o.legal_basis.clone()),
                issued_at: Set(millis(o.issued_at)),
                members: Set(members.join(",")),
                categories: Set(categories),
                notice_withheld_until: Set(o.notice_withheld_until.map(millis)),
            };
            legal_order::Entity::insert(row).exec(txn).await?;
            for operator in &o.approved_by {
                let approval = legal_order_approval::ActiveModel {
                    order_id: Set(o.id.clone()),
                    operator: Set(operator.to_string()),
                };
                legal_order_approval::Entity::insert(approval)
                    .exec(txn)
                    .await?;
            }
            Ok(())
        })
        .await
    }

    async fn approve(&self, id: &str, operator: OperatorId) -> Result<LegalOrder, StoreError> {
        self.write(Stale::Nothing, async {
            let approval = legal_order_approval::ActiveModel {
                order_id: Set(id.to_owned()),
                operator: Set(operator.to_string()),
            };
            match legal_order_approval::Entity::insert(approval)
                .exec(&self.db)
                .await
                .map_err(Error::from)
            {
                Ok(_) => {}
                // Approving twice counts once; an unknown order fails its foreign key (a conflict).
                Err(e) if e.is_conflict() => {}
                Err(e) => return Err(e),
            }
            LegalOrders::all(self)
                .await?
                .into_iter()
                .find(|o| o.id == id)
                .ok_or_else(|| StoreError::NotFound.into())
        })
        .await
    }

    async fn all(&self) -> Result<Vec<LegalOrder>, StoreError> {
        self.read(async {
            let approvals = legal_order_approval::Entity::find().all(&self.db).await?;
            legal_order::Entity::find()
                .order_by_asc(legal_order::Column::Id)
                .all(&self.db)
                .await?
                .into_iter()
                .map(|row| {
                    let members = row
                        .members
                        .split(',')
                        .filter(|m| !m.is_empty())
                        .map(|m| {
                            m.parse()
                                .map(MemberId::from_uuid)
                                .map_err(|_| corrupt("legal order member"))
                        })
                        .collect::<Result<_, _>>()?;
                    let categories = categories_of(&row.categories)?;
                    Ok(LegalOrder {
                        approved_by: approvals
                            .iter()
                            .filter(|a| a.order_id == row.id)
                            .map(|a| operator_id(&a.operator))
                            .collect::<Result<_>>()?,
                        id: row.id,
                        authority: row.authority,
                        reference: row.reference,
                        legal_basis: row.legal_basis,
                        issued_at: from_millis(row.issued_at)?,
                        members,
                        categories,
                        notice_withheld_until: row
                            .notice_withheld_until
                            .map(from_millis)
                            .transpose()?,
                    })
                })
                .collect()
        })
        .await
    }
}

/// Adds the processor to the register, or replaces the one with its key.
async fn upsert_processor(db: &impl ConnectionTrait, p: &Processor) -> Result<()> {
    let row = processor::ActiveModel {
        key: Set(p.key.clone()),
        name: Set(p.name.clone()),
        purpose: Set(p.purpose.clone()),
        categories: Set(categories_text(&p.categories)),
    };
    let upsert = OnConflict::column(processor::Column::Key)
        .update_columns([
            processor::Column::Name,
            processor::Column::Purpose,
            processor::Column::Categories,
        ])
        .to_owned();
    processor::Entity::insert(row)
        .on_conflict(upsert)
        .exec(db)
        .await?;
    Ok(())
}

fn day_text(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn day_of(text: &str) -> Result<time::Date> {
    time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| corrupt("a supervision record's date"))
}

#[async_trait]
impl Processors for SqlStore {
    async fn record_supervision(
        &self,
        s: &kikeru_domain::privacy::supervision::Supervision,
    ) -> Result<(), StoreError> {
        use crate::entity::processor_supervision as row;
        self.write(Stale::Nothing, async {
            row::Entity::insert(row::ActiveModel {
                id: Set(s.id),
                processor: Set(s.processor.clone()),
                contract_date: Set(day_text(s.contract_date)),
                country: Set(s.country.clone()),
                sub_processors: Set(s.sub_processors.clone()),
                foreign_environment: Set(s.foreign_environment.clone()),
                reviewed_on: Set(day_text(s.reviewed_on)),
                outcome: Set(s.outcome.clone()),
                recorded_by: Set(*s.recorded_by.as_uuid()),
                recorded_at: Set(millis(s.recorded_at)),
            })
            .exec(&self.db)
            .await?;
            Ok(())
        })
        .await
    }

    async fn supervisions(
        &self,
    ) -> Result<Vec<kikeru_domain::privacy::supervision::Supervision>, StoreError> {
        use crate::entity::processor_supervision as row;
        self.read(async {
            row::Entity::find()
                .order_by_asc(row::Column::RecordedAt)
                .order_by_asc(row::Column::Id)
                .all(&self.db)
                .await?
                .into_iter()
                .map(|r| {
                    Ok(kikeru_domain::privacy::supervision::Supervision {
                        id: r.id,
                        contract_date: day_of(&r.contract_date)?,
                        reviewed_on: day_of(&r.reviewed_on)?,
                        processor: r.processor,
                        country: r.country,
                        sub_processors: r.sub_processors,
                        foreign_environment: r.foreign_environment,
                        outcome: r.outcome,
                        recorded_by: OperatorId::from_uuid(r.recorded_by),
                        recorded_at: from_millis(r.recorded_at)?,
                    })
                })
                .collect()
        })
        .await
    }

    async fn save(&self, p: &Processor) -> Result<(), StoreError> {
        self.write(Stale::Nothing, async {
            upsert_processor(&self.db, p).await
        })
        .await
    }

    async fn all(&self) -> Result<Vec<Processor>, StoreError> {
        self.read(async {
            processor::Entity::find()
                .order_by_asc(processor::Column::Key)
                .all(&self.db)
                .await?
                .into_iter()
                .map(|row| {
                    Ok(Processor {
                        categories: categories_of(&row.categories)?,
                        key: row.key,
                        name: row.name,
                        purpose: row.purpose,
                    })
                })
                .collect()
        })
        .await
    }

    async fn propose(&self, proposal: &ProcessorProposal) -> Result<(), StoreError> {
        self.write(Stale::Nothing, async {
            let p = &proposal.processor;
            let row = processor_proposal::ActiveModel {
                key: Set(p.key.clone()),
                name: Set(p.name.clone()),
                purpose: Set(p.purpose.clone()),
                categories: Set(categories_text(&p.categories)),
                proposed_by: Set(proposal.proposed_by.to_string()),
                proposed_at: Set(millis(proposal.proposed_at)),
            };
            let upsert = OnConflict::column(processor_proposal::Column::Key)
                .update_columns([
                    processor_proposal::Column::Name,
                    processor_proposal::Column::Purpose,
                    processor_proposal::Column::Categories,
                    processor_proposal::Column::ProposedBy,
                    processor_proposal::Column::ProposedAt,
                ])
                .to_owned();
            processor_proposal::Entity::insert(row)
                .on_conflict(upsert)
                .exec(&self.db)
                .await?;
            Ok(())
        })
        .await
    }

    async fn proposals(&self) -> Result<Vec<ProcessorProposal>, StoreError> {
        self.read(async {
            processor_proposal::Entity::find()
                .order_by_asc(processor_proposal::Column::Key)
                .all(&self.db)
                .await?
                .into_iter()
                .map(|row| {
                    Ok(ProcessorProposal {
                        processor: Processor {
                            categories: categories_of(&row.categories)?,
                            key: row.key,
                            name: row.name,
                            purpose: row.purpose,
                        },
                        proposed_by: operator_id(&row.proposed_by)?,
                        proposed_at: from_millis(row.proposed_at)?,
                    })
                })
                .collect()
        })
        .await
    }

    async fn adopt(&self, proposal: &ProcessorProposal) -> Result<(), StoreError> {
        self.transaction(Stale::Nothing, async |txn| {
            let p = &proposal.processor;
            // Only the very proposal that was approved leaves the table: one that replaced it
            // meanwhile (or a second adoption) finds nothing to take.
            let taken = processor_proposal::Entity::delete_many()
                .filter(processor_proposal::Column::Key.eq(p.key.as_str()))
                .filter(processor_proposal::Column::Name.eq(p.name.as_str()))
                .filter(processor_proposal::Column::Purpose.eq(p.purpose.as_str()))
                .filter(processor_proposal::Column::Categories.eq(categories_text(&p.categories)))
                .filter(processor_proposal::Column::ProposedBy.eq(proposal.proposed_by.to_string()))
                .filter(processor_proposal::Column::ProposedAt.eq(millis(proposal.proposed_at)))
                .exec(txn)
                .await?;
            if taken.rows_affected == 0 {
                return Err(StoreError::NotFound.into());
            }
            upsert_processor(txn, p).await?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl Partners for SqlStore {
    async fn save(&self, p: &Partner) -> Result<(), StoreError> {
        self.write(Stale::Nothing, async {
            let row = partner::ActiveModel {
                key: Set(p.key.clone()),
                name: Set(p.name.clone()),
                address: Set(p.address.clone()),
                representative: Set(p.representative.clone()),
                contact: Set(p.contact.clone()),
            };
            let upsert = OnConflict::column(partner::Column::Key)
                .update_columns([
                    partner::Column::Name,
                    partner::Column::Address,
                    partner::Column::Representative,
                    partner::Column::Contact,
                ])
                .to_owned();
            partner::Entity::insert(row)
                .on_conflict(upsert)
                .exec(&self.db)
                .await?;
            Ok(())
        })
        .await
    }

    async fn all(&self) -> Result<Vec<Partner>, StoreError> {
        self.read(async {
            Ok(partner::Entity::find()
                .order_by_asc(partner::Column::Key)
                .all(&self.db)
                .await?
                .into_iter()
                .map(|row| Partner {
                    key: row.key,
                    name: row.name,
                    address: row.address,
                    representative: row.representative,
                    contact: row.contact,
                })
                .collect())
        })
        .await
    }
}
