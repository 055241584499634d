//! Second factors on sea-orm: authenticator apps (sealed secrets), recovery-code hashes, and
//! the assurance columns of sessions. Uses of a code are single conditional statements, so
//! that two requests with one code cannot both succeed on any backend.

use async_trait::async_trait;
use kikeru_domain::membership::passkey::{Passkey, PasskeyId};
use kikeru_domain::membership::second_factor::{Assurance, RecoveryCodeHash, TotpEnrolment};
use kikeru_domain::ports::SecondFactors;
use kikeru_domain::{MemberId, SessionId, StoreError, Timestamp};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::entity::{passkey, recovery_code, session, totp_enrolment};
use crate::{Result, SqlStore, corrupt, from_millis, millis};

fn to_enrolment(row: totp_enrolment::Model) -> Result<TotpEnrolment> {
    Ok(TotpEnrolment {
        member_id: MemberId::from_uuid(row.member_id),
        sealed_secret: row.sealed_secret,
        created_at: from_millis(row.created_at)?,
        confirmed_at: row.confirmed_at.map(from_millis).transpose()?,
        last_used_step: row.last_used_step,
    })
}

/// Stores the member's enrolment, replacing any earlier one.
pub(crate) async fn put_totp(db: &impl ConnectionTrait, e: &TotpEnrolment) -> Result<()> {
    delete_totp(db, e.member_id).await?;
    let row = totp_enrolment::ActiveModel {
        member_id: Set(*e.member_id.as_uuid()),
        sealed_secret: Set(e.sealed_secret.clone()),
        created_at: Set(millis(e.created_at)),
        confirmed_at: Set(e.confirmed_at.map(millis)),
        last_used_step: Set(e.last_used_step),
    };
    totp_enrolment::Entity::insert(row).exec(db).await?;
    Ok(())
}

/// Seals the member's secret again, only while it is still `from`.
pub(crate) async fn reseal_totp(
    db: &impl ConnectionTrait,
    member: MemberId,
    from: &[u8],
    to: &[u8],
) -> Result<()> {
    let result = totp_enrolment::Entity::update_many()
        .col_expr(
            totp_enrolment::Column::SealedSecret,
            Expr::value(to.to_vec()),
        )
        .filter(totp_enrolment::Column::MemberId.eq(*member.as_uuid()))
        .filter(totp_enrolment::Column::SealedSecret.eq(from.to_vec()))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound.into());
    }
    Ok(())
}

/// Completes the member's enrolment.
pub(crate) async fn confirm_totp(
    db: &impl ConnectionTrait,
    member: MemberId,
    at: Timestamp,
    step: i64,
) -> Result<()> {
    let result = totp_enrolment::Entity::update_many()
        .col_expr(totp_enrolment::Column::ConfirmedAt, Expr::value(millis(at)))
        .col_expr(totp_enrolment::Column::LastUsedStep, Expr::value(step))
        .filter(totp_enrolment::Column::MemberId.eq(*member.as_uuid()))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound.into());
    }
    Ok(())
}

/// Uses up the codes up to `step`: one conditional update, so that of two uses of one step
/// only the first changes a row.
pub(crate) async fn use_totp_step(
    db: &impl ConnectionTrait,
    member: MemberId,
    step: i64,
) -> Result<()> {
    let confirmed = Condition::all()
        .add(totp_enrolment::Column::MemberId.eq(*member.as_uuid()))
        .add(totp_enrolment::Column::ConfirmedAt.is_not_null());
    let result = totp_enrolment::Entity::update_many()
        .col_expr(totp_enrolment::Column::LastUsedStep, Expr::value(step))
        .filter(confirmed.clone())
        .filter(
            Condition::any()
                .add(totp_enrolment::Column::LastUsedStep.is_null())
                .add(totp_enrolment::Column::LastUsedStep.lt(step)),
        )
        .exec(db)
        .await?;
    if result.rows_affected > 0 {
        return Ok(());
    }
    let exists = totp_enrolment::Entity::find()
        .filter(confirmed)
        .count(db)
        .await?;
    Err(if exists > 0 {
        StoreError::Conflict
    } else {
        StoreError::NotFound
    }
    .into())
}

/// Removes the member's authenticator app.
pub(crate) async fn delete_totp(db: &impl ConnectionTrait, member: MemberId) -> Result<()> {
    totp_enrolment::Entity::delete_many()
        .filter(totp_enrolment::Column::MemberId.eq(*member.as_uuid()))
        .exec(db)
        .await?;
    Ok(())
}

/// Replaces the member's recovery codes.
pub(crate) async fn replace_recovery_codes(
    db: &impl ConnectionTrait,
    member: MemberId,
    codes: &[RecoveryCodeHash],
    at: Timestamp,
) -> Result<()> {
    delete_recovery_codes(db, member).await?;
    if codes.is_empty() {
        return Ok(());
    }
    let rows = codes.iter().map(|code| recovery_code::ActiveModel {
        member_id: Set(*member.as_uuid()),
        code_hash: Set(code.as_bytes().to_vec()),
        created_at: Set(millis(at)),
    });
    recovery_code::Entity::insert_many(rows).exec(db).await?;
    Ok(())
}

/// Uses up one recovery code: deleted by one statement, so only one use finds it.
pub(crate) async fn use_recovery_code(
    db: &impl ConnectionTrait,
    member: MemberId,
    code: &RecoveryCodeHash,
) -> Result<()> {
    let result = recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::MemberId.eq(*member.as_uuid()))
        .filter(recovery_code::Column::CodeHash.eq(code.as_bytes().to_vec()))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound.into());
    }
    Ok(())
}

/// Removes the member's recovery codes.
pub(crate) async fn delete_recovery_codes(
    db: &impl ConnectionTrait,
    member: MemberId,
) -> Result<()> {
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::MemberId.eq(*member.as_uuid()))
        .exec(db)
        .await?;
    Ok(())
}

/// Records how a session was authenticated.
pub(crate) async fn update_assurance(
    db: &impl ConnectionTrait,
    id: SessionId,
    assurance: &Assurance,
    second_factor_enrolled: bool,
) -> Result<()> {
    let result = session::Entity::update_many()
        .col_expr(
            session::Column::FirstFactor,
            Expr::value(assurance.first.as_str()),
        )
        .col_expr(
            session::Column::SecondFactor,
            Expr::value(assurance.second.map(|f| f.as_str().to_owned())),
        )
        .col_expr(
            session::Column::AuthenticatedAt,
            Expr::value(millis(assurance.authenticated_at)),
        )
        .col_expr(
            session::Column::SecondFactorEnrolled,
            Expr::value(second_factor_enrolled),
        )
        .filter(session::Column::Id.eq(*id.as_uuid()))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound.into());
    }
    Ok(())
}

fn to_passkey(row: passkey::Model) -> Result<Passkey> {
    Ok(Passkey {
        id: PasskeyId::from_uuid(row.id),
        member_id: MemberId::from_uuid(row.member_id),
        credential_id: row.credential_id,
        public_key: row.public_key,
        sign_count: u32::try_from(row.sign_count).map_err(|_| corrupt("sign count"))?,
        name: row.name,
        created_at: from_millis(row.created_at)?,
        last_used_at: row.last_used_at.map(from_millis).transpose()?,
        backup_eligible: row.backup_eligible,
        backed_up: row.backed_up,
    })
}

/// Stores a new passkey.
pub(crate) async fn insert_passkey(db: &impl ConnectionTrait, p: &Passkey) -> Result<()> {
    let row = passkey::ActiveModel {
        id: Set(*p.id.as_uuid()),
        member_id: Set(*p.member_id.as_uuid()),
        credential_id: Set(p.credential_id.clone()),
        public_key: Set(p.public_key.clone()),
        sign_count: Set(i64::from(p.sign_count)),
        name: Set(p.name.clone()),
        created_at: Set(millis(p.created_at)),
        last_used_at: Set(p.last_used_at.map(millis)),
        backup_eligible: Set(p.backup_eligible),
        backed_up: Set(p.backed_up),
    };
    passkey::Entity::insert(row).exec(db).await?;
    Ok(())
}

fn members_passkey(member: MemberId, id: PasskeyId) -> Condition {
    Condition::all()
        .add(passkey::Column::Id.eq(*id.as_uuid()))
        .add(passkey::Column::MemberId.eq(*member.as_uuid()))
}

/// Renames one of the member's passkeys.
pub(crate) async fn rename_passkey(
    db: &impl ConnectionTrait,
    member: MemberId,
    id: PasskeyId,
    name: &str,
) -> Result<()> {
    let result = passkey::Entity::update_many()
        .col_expr(passkey::Column::Name, Expr::value(name))
        .filter(members_passkey(member, id))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound.into());
    }
    Ok(())
}

/// Removes one of the member's passkeys.
pub(crate) async fn delete_passkey(
    db: &impl ConnectionTrait,
    member: MemberId,
    id: PasskeyId,
) -> Result<()> {
    let result = passkey::Entity::delete_many()
        .filter(members_passkey(member, id))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound.into());
    }
    Ok(())
}

/// Removes every passkey of the member.
pub(crate) async fn delete_passkeys(db: &impl ConnectionTrait, member: MemberId) -> Result<()> {
    passkey::Entity::delete_many()
        .filter(passkey::Column::MemberId.eq(*member.as_uuid()))
        .exec(db)
        .await?;
    Ok(())
}

/// A use of a passkey, as reported by its authenticator.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PasskeyUse {
    pub(crate) sign_count: u32,
    pub(crate) at: Timestamp,
    pub(crate) backup_eligible: bool,
    pub(crate) backed_up: bool,
}

/// Records a use: one conditional update, so that the counter only grows and of two uses
/// with one counter only the first passes. The backup flags are those just reported (the
/// domain checked that eligibility did not change).
pub(crate) async fn use_passkey(
    db: &impl ConnectionTrait,
    id: PasskeyId,
    used: PasskeyUse,
) -> Result<()> {
    let PasskeyUse {
        sign_count,
        at,
        backup_eligible,
        backed_up,
    } = used;
    let count = i64::from(sign_count);
    let plausible = if sign_count == 0 {
        Condition::all().add(passkey::Column::SignCount.eq(0))
    } else {
        Condition::all().add(passkey::Column::SignCount.lt(count))
    };
    let result = passkey::Entity::update_many()
        .col_expr(passkey::Column::SignCount, Expr::value(count))
        .col_expr(passkey::Column::LastUsedAt, Expr::value(millis(at)))
        .col_expr(
            passkey::Column::BackupEligible,
            Expr::value(backup_eligible),
        )
        .col_expr(passkey::Column::BackedUp, Expr::value(backed_up))
        .filter(passkey::Column::Id.eq(*id.as_uuid()))
        .filter(plausible)
        .exec(db)
        .await?;
    if result.rows_affected > 0 {
        return Ok(());
    }
    let exists = passkey::Entity::find_by_id(*id.as_uuid()).count(db).await?;
    Err(if exists > 0 {
        StoreError::Conflict
    } else {
        StoreError::NotFound
    }
    .into())
}

/// Removes every second factor of a member being erased.
pub(crate) async fn erase(db: &impl ConnectionTrait, member: MemberId) -> Result<()> {
    delete_totp(db, member).await?;
    delete_recovery_codes(db, member).await?;
    delete_passkeys(db, member).await
}

#[async_trait]
impl SecondFactors for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn totp(&self, member: MemberId) -> Result<Option<TotpEnrolment>, StoreError> {
        self.read(async {
            totp_enrolment::Entity::find_by_id(*member.as_uuid())
                .one(&self.db)
                .await?
                .map(to_enrolment)
                .transpose()
        })
        .await
    }

    async fn totp_enrolments(
        &self,
        after: Option<MemberId>,
        limit: u32,
    ) -> Result<Vec<TotpEnrolment>, StoreError> {
        self.read(async {
            let mut query = totp_enrolment::Entity::find();
            if let Some(after) = after {
                query = query.filter(totp_enrolment::Column::MemberId.gt(*after.as_uuid()));
            }
            query
                .order_by_asc(totp_enrolment::Column::MemberId)
                .limit(u64::from(limit))
                .all(&self.db)
                .await?
                .into_iter()
                .map(to_enrolment)
                .collect()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn recovery_codes(&self, member: MemberId) -> Result<Vec<RecoveryCodeHash>, StoreError> {
        self.read(async {
            recovery_code::Entity::find()
                .filter(recovery_code::Column::MemberId.eq(*member.as_uuid()))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|row| {
                    let bytes: [u8; 32] = row
                        .code_hash
                        .try_into()
                        .map_err(|_| corrupt("recovery code hash"))?;
                    Ok(RecoveryCodeHash::from_bytes(bytes))
                })
                .collect()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn passkeys(&self, member: MemberId) -> Result<Vec<Passkey>, StoreError> {
        self.read(async {
            passkey::Entity::find()
                .filter(passkey::Column::MemberId.eq(*member.as_uuid()))
                .order_by_asc(passkey::Column::CreatedAt)
                .order_by_asc(passkey::Column::Id)
                .all(&self.db)
                .await?
                .into_iter()
                .map(to_passkey)
                .collect()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn passkey_by_credential(
        &self,
        credential_id: &[u8],
    ) -> Result<Option<Passkey>, StoreError> {
        self.read(async {
            passkey::Entity::find()
                .filter(passkey::Column::CredentialId.eq(credential_id.to_vec()))
                .one(&self.db)
                .await?
                .map(to_passkey)
                .transpose()
        })
        .await
    }
}
