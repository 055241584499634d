//! Membership's storage: members, sessions, mailed tokens, the security log and the shared
//! rate-limit counters.

use super::*;

fn member_row(m: &Member) -> member::ActiveModel {
    member::ActiveModel {
        id: Set(*m.id.as_uuid()),
        email: Set(m.email.as_str().to_owned()),
        email_verified_at: Set(m.email_verified_at.map(millis)),
        password_hash: Set(m.password_hash.as_str().to_owned()),
        display_name: Set(m.display_name.as_str().to_owned()),
        language: Set(m.language.tag().to_owned()),
        created_at: Set(millis(m.created_at)),
    }
}

/// The writes the ports and units of work share, on a pool or inside a transaction.
pub(crate) async fn insert_member(db: &impl ConnectionTrait, m: &Member) -> Result<()> {
    member::Entity::insert(member_row(m)).exec(db).await?;
    Ok(())
}

pub(crate) async fn update_member(db: &impl ConnectionTrait, m: &Member) -> Result<()> {
    let result = member::Entity::update_many()
        .set(member_row(m))
        .filter(member::Column::Id.eq(*m.id.as_uuid()))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound.into());
    }
    Ok(())
}

pub(crate) async fn insert_session(db: &impl ConnectionTrait, s: &Session) -> Result<()> {
    let row = session::ActiveModel {
        id: Set(*s.id.as_uuid()),
        member_id: Set(*s.member_id.as_uuid()),
        token_hash: Set(s.token_hash.as_bytes().to_vec()),
        created_at: Set(millis(s.created_at)),
        last_seen_at: Set(millis(s.last_seen_at)),
        expires_at: Set(millis(s.expires_at)),
        browser: Set(s.browser.clone()),
        first_factor: Set(s.assurance.first.as_str().to_owned()),
        second_factor: Set(s.assurance.second.map(|f| f.as_str().to_owned())),
        authenticated_at: Set(millis(s.assurance.authenticated_at)),
        second_factor_enrolled: Set(s.second_factor_enrolled),
    };
    session::Entity::insert(row).exec(db).await?;
    Ok(())
}

pub(crate) async fn delete_session(db: &impl ConnectionTrait, id: SessionId) -> Result<bool> {
    let result = session::Entity::delete_by_id(*id.as_uuid())
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

pub(crate) async fn delete_sessions(
    db: &impl ConnectionTrait,
    member: MemberId,
    keep: Option<SessionId>,
) -> Result<u64> {
    let mut query =
        session::Entity::delete_many().filter(session::Column::MemberId.eq(*member.as_uuid()));
    if let Some(keep) = keep {
        query = query.filter(session::Column::Id.ne(*keep.as_uuid()));
    }
    Ok(query.exec(db).await?.rows_affected)
}

pub(crate) async fn insert_token(db: &impl ConnectionTrait, t: &OneTimeToken) -> Result<()> {
    let row = token::ActiveModel {
        hash: Set(t.hash.as_bytes().to_vec()),
        member_id: Set(*t.member_id.as_uuid()),
        purpose: Set(t.purpose.as_str().to_owned()),
        new_email: Set(t.new_email.as_ref().map(|e| e.as_str().to_owned())),
        created_at: Set(millis(t.created_at)),
        expires_at: Set(millis(t.expires_at)),
    };
    token::Entity::insert(row).exec(db).await?;
    Ok(())
}

/// Deletes the token; whether this call removed it (only one caller does).
pub(crate) async fn take_token(db: &impl ConnectionTrait, hash: &TokenHash) -> Result<bool> {
    let deleted = token::Entity::delete_by_id(hash.as_bytes().to_vec())
        .exec(db)
        .await?;
    Ok(deleted.rows_affected == 1)
}

pub(crate) async fn delete_tokens(
    db: &impl ConnectionTrait,
    member: MemberId,
    purpose: TokenPurpose,
) -> Result<u64> {
    let result = token::Entity::delete_many()
        .filter(token::Column::MemberId.eq(*member.as_uuid()))
        .filter(token::Column::Purpose.eq(purpose.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

pub(crate) async fn record_event(db: &impl ConnectionTrait, e: &SecurityEvent) -> Result<()> {
    let row = security_event::ActiveModel {
        id: Set(e.id),
        at: Set(millis(e.at)),
        member_id: Set(e.member_id.map(|m| *m.as_uuid())),
        session_id: Set(e.session_id.map(|s| *s.as_uuid())),
        kind: Set(e.kind.as_str().to_owned()),
    };
    security_event::Entity::insert(row).exec(db).await?;
    Ok(())
}

/// Erases the member's personal data inside `txn` (see [`Erasure::erase`]).
pub(crate) async fn erase_member(
    txn: &sea_orm::DatabaseTransaction,
    member: MemberId,
) -> Result<()> {
    let id = *member.as_uuid();
    // A write first: on SQLite it takes the write lock before anything is read.
    entity::consent_record::Entity::delete_many()
        .filter(entity::consent_record::Column::MemberId.eq(id))
        .exec(txn)
        .await?;
    let Some(row) = member::Entity::find_by_id(id).one(txn).await? else {
        return Err(StoreError::NotFound.into());
    };
    security_event::Entity::delete_many()
        .filter(security_event::Column::MemberId.eq(id))
        .exec(txn)
        .await?;
    session::Entity::delete_many()
        .filter(session::Column::MemberId.eq(id))
        .exec(txn)
        .await?;
    token::Entity::delete_many()
        .filter(token::Column::MemberId.eq(id))
        .exec(txn)
        .await?;
    factors::erase(txn, member).await?;
    unit::erase_inquiries(txn, member, &row.email).await?;
    crate::requests::erase_requests(txn, member, &row.email).await?;
    // The member's mail: settled records (kinds and times that would re-create part of the
    // erased security history) go; mail still to be delivered goes out, naming no member.
    entity::outbox_mail::Entity::delete_many()
        .filter(entity::outbox_mail::Column::MemberId.eq(id))
        .filter(entity::outbox_mail::Column::SettledAt.is_not_null())
        .exec(txn)
        .await?;
    entity::outbox_mail::Entity::update_many()
        .col_expr(
            entity::outbox_mail::Column::MemberId,
            sea_orm::sea_query::Expr::value(Option::<uuid::Uuid>::None),
        )
        .filter(entity::outbox_mail::Column::MemberId.eq(id))
        .exec(txn)
        .await?;
    let removed = member::Entity::delete_by_id(id).exec(txn).await?;
    if removed.rows_affected == 0 {
        return Err(StoreError::NotFound.into());
    }
    Ok(())
}

#[async_trait]
impl Members for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn insert(&self, m: &Member) -> Result<(), StoreError> {
        self.write(Stale::Nothing, async { insert_member(&self.db, m).await })
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn by_id(&self, id: MemberId) -> Result<Option<Member>, StoreError> {
        self.read(async {
            if let Some(member) = self.cache.member(id) {
                return Ok(Some(member));
            }
            let ticket = self.cache.ticket();
            let row = member::Entity::find_by_id(*id.as_uuid())
                .one(&self.db)
                .await?;
            let member = row.map(to_member).transpose()?;
            if let Some(member) = &member {
                self.cache.keep_member(ticket, member);
            }
            Ok(member)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn by_email(&self, email: &Email) -> Result<Option<Member>, StoreError> {
        self.read(async {
            let row = member::Entity::find()
                .filter(member::Column::Email.eq(email.as_str()))
                .one(&self.db)
                .await?;
            row.map(to_member).transpose()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn update(&self, m: &Member) -> Result<(), StoreError> {
        self.write(Stale::Member(m.id), async {
            update_member(&self.db, m).await
        })
        .await
    }
}

fn to_session(row: session::Model) -> Result<Session> {
    Ok(Session {
        id: SessionId::from_uuid(row.id),
        member_id: MemberId::from_uuid(row.member_id),
        token_hash: hash_bytes(&row.token_hash)?,
        created_at: from_millis(row.created_at)?,
        last_seen_at: from_millis(row.last_seen_at)?,
        expires_at: from_millis(row.expires_at)?,
        browser: row.browser,
        assurance: Assurance {
            first: Factor::from_name(&row.first_factor).ok_or_else(|| corrupt("first factor"))?,
            second: row
                .second_factor
                .map(|name| Factor::from_name(&name).ok_or_else(|| corrupt("second factor")))
                .transpose()?,
            authenticated_at: from_millis(row.authenticated_at)?,
        },
        second_factor_enrolled: row.second_factor_enrolled,
    })
}

#[async_trait]
impl Sessions for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn insert(&self, s: &Session) -> Result<(), StoreError> {
        self.write(Stale::Nothing, async { insert_session(&self.db, s).await })
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn by_token_hash(&self, hash: &TokenHash) -> Result<Option<Session>, StoreError> {
        self.read(async {
            if let Some(session) = self.cache.session(hash) {
                return Ok(Some(session));
            }
            let ticket = self.cache.ticket();
            let row = session::Entity::find()
                .filter(session::Column::TokenHash.eq(hash.as_bytes().to_vec()))
                .one(&self.db)
                .await?;
            let session = row.map(to_session).transpose()?;
            if let Some(session) = &session {
                self.cache.keep_session(ticket, session);
            }
            Ok(session)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn touch(&self, id: SessionId, at: Timestamp) -> Result<(), StoreError> {
        self.write(Stale::Session(id), async {
            let result = session::Entity::update_many()
                .col_expr(session::Column::LastSeenAt, Expr::value(millis(at)))
                .filter(session::Column::Id.eq(*id.as_uuid()))
                .exec(&self.db)
                .await?;
            if result.rows_affected == 0 {
                return Err(StoreError::NotFound.into());
            }
            Ok(())
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn for_member(&self, member: MemberId) -> Result<Vec<Session>, StoreError> {
        self.read(async {
            session::Entity::find()
                .filter(session::Column::MemberId.eq(*member.as_uuid()))
                .order_by_desc(session::Column::CreatedAt)
                .order_by_desc(session::Column::Id)
                .all(&self.db)
                .await?
                .into_iter()
                .map(to_session)
                .collect()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn delete(&self, id: SessionId) -> Result<bool, StoreError> {
        self.write(Stale::Session(id), async {
            delete_session(&self.db, id).await
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn delete_for_member(
        &self,
        member: MemberId,
        keep: Option<SessionId>,
    ) -> Result<u64, StoreError> {
        self.write(Stale::Member(member), async {
            delete_sessions(&self.db, member, keep).await
        })
        .await
    }
}

fn to_token(row: token::Model) -> Result<OneTimeToken> {
    Ok(OneTimeToken {
        hash: hash_bytes(&row.hash)?,
        member_id: MemberId::from_uuid(row.member_id),
        purpose: TokenPurpose::from_name(&row.purpose).ok_or_else(|| corrupt("token purpose"))?,
        new_email: row
            .new_email
            .as_deref()
            .map(Email::parse)
            .transpose()
            .map_err(|_| corrupt("email"))?,
        created_at: from_millis(row.created_at)?,
        expires_at: from_millis(row.expires_at)?,
    })
}

#[async_trait]
impl Tokens for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn insert(&self, t: &OneTimeToken) -> Result<(), StoreError> {
        self.write(Stale::Nothing, async { insert_token(&self.db, t).await })
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn find(&self, hash: &TokenHash) -> Result<Option<OneTimeToken>, StoreError> {
        self.read(async {
            let row = token::Entity::find_by_id(hash.as_bytes().to_vec())
                .one(&self.db)
                .await?;
            row.map(to_token).transpose()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn take(&self, hash: &TokenHash) -> Result<Option<OneTimeToken>, StoreError> {
        self.write(Stale::Nothing, async {
            let Some(found) = self.find(hash).await? else {
                return Ok(None);
            };
            Ok(take_token(&self.db, hash).await?.then_some(found))
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn delete_for_member(
        &self,
        member: MemberId,
        purpose: TokenPurpose,
    ) -> Result<u64, StoreError> {
        self.write(Stale::Nothing, async {
            delete_tokens(&self.db, member, purpose).await
        })
        .await
    }
}

#[async_trait]
impl AuditLog for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn record(&self, e: &SecurityEvent) -> Result<(), StoreError> {
        self.write(Stale::Nothing, async { record_event(&self.db, e).await })
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn for_member(
        &self,
        member: MemberId,
        limit: u32,
    ) -> Result<Vec<SecurityEvent>, StoreError> {
        self.read(async {
            security_event::Entity::find()
                .filter(security_event::Column::MemberId.eq(*member.as_uuid()))
                .order_by_desc(security_event::Column::At)
                .order_by_desc(security_event::Column::Id)
                .limit(u64::from(limit))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|row| {
                    Ok(SecurityEvent {
                        id: row.id,
                        at: from_millis(row.at)?,
                        member_id: row.member_id.map(MemberId::from_uuid),
                        session_id: row.session_id.map(SessionId::from_uuid),
                        kind: SecurityEventKind::from_name(&row.kind)
                            .ok_or_else(|| corrupt("event kind"))?,
                    })
                })
                .collect()
        })
        .await
    }
}

/// One statement that starts or extends a window, so concurrent hits never lose a count.
/// Placeholders first appear in the order `$1, $2, $3`, which both backends bind by position.
const HIT_SQL: &str = "INSERT INTO rate_limits (bucket, hits, window_ends_at) VALUES ($1, 1, $2) \
     ON CONFLICT (bucket) DO UPDATE SET \
     hits = CASE WHEN rate_limits.window_ends_at > $3 THEN rate_limits.hits + 1 ELSE 1 END, \
     window_ends_at = CASE WHEN rate_limits.window_ends_at > $3 THEN rate_limits.window_ends_at ELSE $2 END \
     RETURNING hits, window_ends_at";

fn to_hits(hits: i64, window_ends_at: i64) -> Result<Hits> {
    Ok(Hits {
        count: u32::try_from(hits).map_err(|_| corrupt("hit count"))?,
        window_ends_at: from_millis(window_ends_at)?,
    })
}

#[async_trait]
impl RateLimits for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn hit(&self, key: &str, window: Duration, now: Timestamp) -> Result<Hits, StoreError> {
        self.write(Stale::Nothing, async {
            let backend = self.db.get_database_backend();
            let ends = millis(now + window);
            let statement = Statement::from_sql_and_values(
                backend,
                HIT_SQL,
                [key.into(), ends.into(), millis(now).into()],
            );
            let row = self
                .db
                .query_one_raw(statement)
                .await?
                .ok_or_else(|| corrupt("hit"))?;
            let hits: i64 = row.try_get_by_index(0)?;
            let window_ends_at: i64 = row.try_get_by_index(1)?;
            to_hits(hits, window_ends_at)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn peek(&self, key: &str, now: Timestamp) -> Result<Hits, StoreError> {
        self.read(async {
            let row = rate_limit::Entity::find_by_id(key.to_owned())
                .one(&self.db)
                .await?;
            match row {
                Some(row) if row.window_ends_at > millis(now) => {
                    to_hits(row.hits, row.window_ends_at)
                }
                _ => Ok(Hits {
                    count: 0,
                    window_ends_at: now,
                }),
            }
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn reset(&self, key: &str) -> Result<(), StoreError> {
        self.write(Stale::Nothing, async {
            rate_limit::Entity::delete_by_id(key.to_owned())
                .exec(&self.db)
                .await?;
            Ok(())
        })
        .await
    }
}
