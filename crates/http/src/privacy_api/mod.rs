//! Consent: members see every purpose with its notice and grant or withdraw their consent
//! (`/me/consents`); operators keep the register of purposes (`/admin/purposes`).

mod types;

use types::*;

pub use types::package_json;

use kikeru_domain::MemberId;
use kikeru_domain::privacy::Partner;
use kikeru_domain::privacy::disclosure::{DisclosureError, LegalOrderDraft, RegisterChange};
use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;

use crate::AppState;
use crate::auth::{OperatorSession, Session};
use crate::problem::ApiError;

pub(crate) struct PrivacyApi;

#[OpenApi]
impl PrivacyApi {
    /// Every purpose beyond providing the service, with its notice and the member's consent,
    /// and the member's whole consent history.
    #[oai(path = "/me/consents", method = "get", tag = "Tag::Me")]
    async fn consents(&self, state: Data<&AppState>, auth: Session) -> ApiResult<Json<Consents>> {
        let (states, history) = state.services.consents.states(auth.0.member.id).await?;
        Ok(Json(Consents {
            purposes: states.iter().map(ConsentView::from).collect(),
            history: history.iter().map(ConsentRecordView::from).collect(),
        }))
    }

    /// Grant or withdraw consent to a purpose (at its current notice). A withdrawal takes
    /// effect for every later decision.
    #[oai(path = "/me/consents/:purpose", method = "put", tag = "Tag::Me")]
    async fn set_consent(
        &self,
        state: Data<&AppState>,
        auth: Session,
        purpose: Path<String>,
        body: Json<ConsentChange>,
    ) -> ApiResult<Json<ConsentView>> {
        let changed = state
            .services
            .consents
            .set(auth.0.member.id, &purpose.0, body.granted, "api")
            .await
            .map_err(consent_error)?;
        Ok(Json(ConsentView::from(&changed)))
    }

    /// The provisions of the member's data to third parties: date, recipient, items and basis
    /// (APPI), from the tamper-evident ledger.
    #[oai(path = "/me/disclosures", method = "get", tag = "Tag::Me")]
    async fn disclosures(
        &self,
        state: Data<&AppState>,
        auth: Session,
    ) -> ApiResult<Json<Vec<DisclosureView>>> {
        let entries = state.services.disclosures.about(auth.0.member.id).await?;
        Ok(Json(entries.iter().map(DisclosureView::from).collect()))
    }

    /// Disclose a member's data to a third party (operators). The rules engine decides: when
    /// allowed, the package holds exactly the allowed categories and the ledger records it;
    /// when denied (`403` with the reason), nothing is produced. Both are audited.
    #[oai(path = "/admin/disclosures", method = "post", tag = "Tag::Admin")]
    async fn disclose(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        body: Json<DisclosureInput>,
    ) -> ApiResult<Disclosed> {
        let request = disclosure_request(&body.0)?;
        let operator = Some(auth.0.operator.id);
        match state
            .services
            .disclosures
            .disclose(&auth.0.operator, request)
            .await
        {
            Ok((entry, package)) => {
                let detail = format!("ledger entry {} for member {}", entry.seq, entry.member_id);
                state
                    .services
                    .office
                    .audit(operator, "disclosure.made", &detail)
                    .await?;
                Ok(Disclosed::Created(Json(DisclosureMade {
                    entry: (&entry).into(),
                    package: package_json(&package),
                })))
            }
            Err(DisclosureError::Denied(reason)) => {
                state
                    .services
                    .office
                    .audit(
                        operator,
                        "disclosure.refused",
                        &format!("member {}: {reason}", body.member_id),
                    )
                    .await?;
                Err(ApiError::Forbidden(Json(
                    crate::problem::Problem::new(
                        poem::http::StatusCode::FORBIDDEN,
                        "disclosure_denied",
                        "The disclosure is not allowed",
                    )
                    .detail(reason.to_string()),
                )))
            }
            Err(DisclosureError::UnknownMember) => Err(ApiError::not_found(
                "member_not_found",
                "There is no such member",
            )),
            Err(DisclosureError::NotAdministrator) => Err(admin_required()),
            Err(e @ DisclosureError::NotExportable(_)) => Err(ApiError::unprocessable(
                "invalid_disclosure",
                "The disclosure request is not valid",
                e.to_string(),
            )),
            Err(DisclosureError::Store(e)) => Err(ApiError::store(e)),
        }
    }

    /// The register of entrusted processors and the only categories each receives (operators).
    #[oai(path = "/admin/processors", method = "get", tag = "Tag::Admin")]
    async fn processors(
        &self,
        state: Data<&AppState>,
        _auth: OperatorSession,
    ) -> ApiResult<Json<Vec<ProcessorView>>> {
        Ok(Json(
            state
                .services
                .disclosures
                .processors()
                .await?
                .iter()
                .map(ProcessorView::from)
                .collect(),
        ))
    }

    /// Add a processor to the register, or change what one is entrusted with (administrators);
    /// audited. A change that lets nothing more leave (fewer categories, another name or
    /// purpose) is in force at once (`200`); a new processor, or more categories for one,
    /// waits for a second administrator's approval (`202`), and until then adapters and the
    /// rules engine know only the entry in force.
    #[oai(path = "/admin/processors/:key", method = "put", tag = "Tag::Admin")]
    async fn save_processor(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        /// The register key: 1–64 lower-case letters, digits and `-`.
        #[oai(validator(pattern = "^[a-z0-9-]{1,64}$"))]
        key: Path<String>,
        body: Json<ProcessorInput>,
    ) -> ApiResult<ProcessorSaved> {
        let processor = kikeru_domain::privacy::Processor {
            key: key.0,
            name: body.name.trim().to_owned(),
            purpose: body.purpose.trim().to_owned(),
            categories: categories_of(&body.categories),
        };
        let change = state
            .services
            .disclosures
            .save_processor(&auth.0.operator, processor)
            .await
            .map_err(register_error)?;
        let (action, view, saved) = match &change {
            RegisterChange::Saved(p) => ("processor.saved", ProcessorView::from(p), true),
            RegisterChange::Proposed(p) => (
                "processor.proposed",
                ProcessorView::from(&p.processor),
                false,
            ),
        };
        let detail = format!(
            "processor {} entrusted with {}",
            view.key,
            view.categories.join(",")
        );
        state
            .services
            .office
            .audit(Some(auth.0.operator.id), action, &detail)
            .await?;
        Ok(if saved {
            ProcessorSaved::InForce(Json(view))
        } else {
            ProcessorSaved::AwaitingApproval(Json(view))
        })
    }

    /// The changes to the processor register waiting for a second administrator.
    #[oai(
        path = "/admin/processor-proposals",
        method = "get",
        tag = "Tag::Admin"
    )]
    async fn processor_proposals(
        &self,
        state: Data<&AppState>,
        _auth: OperatorSession,
    ) -> ApiResult<Json<Vec<ProposalView>>> {
        Ok(Json(
            state
                .services
                .disclosures
                .processor_proposals()
                .await?
                .iter()
                .map(ProposalView::from)
                .collect(),
        ))
    }

    /// Approve the change waiting for a processor (a second administrator, not the one who
    /// proposed it): from now adapters send it what it lists. Audited.
    #[oai(
        path = "/admin/processors/:key/approval",
        method = "post",
        tag = "Tag::Admin"
    )]
    async fn approve_processor(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        /// The register key.
        #[oai(validator(pattern = "^[a-z0-9-]{1,64}$"))]
        key: Path<String>,
    ) -> ApiResult<Json<ProcessorView>> {
        let approved = state
            .services
            .disclosures
            .approve_processor(&auth.0.operator, &key.0)
            .await
            .map_err(register_error)?;
        let view = ProcessorView::from(&approved);
        let detail = format!(
            "processor {} entrusted with {}",
            view.key,
            view.categories.join(",")
        );
        state
            .services
            .office
            .audit(Some(auth.0.operator.id), "processor.approved", &detail)
            .await?;
        Ok(Json(view))
    }

    /// The register of partners: third parties that may receive members' data with their
    /// consent, with the name and address the ledger records (operators).
    #[oai(path = "/admin/partners", method = "get", tag = "Tag::Admin")]
    async fn partners(
        &self,
        state: Data<&AppState>,
        _auth: OperatorSession,
    ) -> ApiResult<Json<Vec<PartnerView>>> {
        Ok(Json(
            state
                .services
                .disclosures
                .partners()
                .await?
                .iter()
                .map(PartnerView::from)
                .collect(),
        ))
    }

    /// Add a partner to the register or change its details (operators); audited. Entries
    /// already in the ledger keep the details they were recorded with.
    #[oai(path = "/admin/partners/:key", method = "put", tag = "Tag::Admin")]
    async fn save_partner(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        /// The register key: 1–64 lower-case letters, digits and `-`.
        #[oai(validator(pattern = "^[a-z0-9-]{1,64}$"))]
        key: Path<String>,
        body: Json<PartnerInput>,
    ) -> ApiResult<Json<PartnerView>> {
        let input = body.0;
        let partner = Partner {
            key: key.0,
            name: input.name.trim().to_owned(),
            address: input.address.trim().to_owned(),
            representative: input
                .representative
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty()),
            contact: input.contact.trim().to_owned(),
        };
        state.services.disclosures.save_partner(&partner).await?;
        state
            .services
            .office
            .audit(
                Some(auth.0.operator.id),
                "partner.saved",
                &format!("partner {} ({})", partner.key, partner.name),
            )
            .await?;
        Ok(Json(PartnerView::from(&partner)))
    }

    /// Record a legal order (operators). It takes effect once a second, different operator
    /// approves it; audited.
    #[oai(path = "/admin/legal-orders", method = "post", tag = "Tag::Admin")]
    async fn record_legal_order(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        body: Json<LegalOrderInput>,
    ) -> ApiResult<LegalOrderRecorded> {
        let input = body.0;
        let draft = LegalOrderDraft {
            authority: input.authority.into(),
            reference: input.reference.into(),
            legal_basis: input.legal_basis.into(),
            issued_at: input.issued_at,
            members: input
                .member_ids
                .into_iter()
                .map(MemberId::from_uuid)
                .collect(),
            categories: categories_of(&input.categories),
            notice_withheld_until: input.notice_withheld_until,
        };
        let operator = auth.0.operator.id;
        let recorded = state
            .services
            .disclosures
            .record_legal_order(draft, operator)
            .await?;
        state
            .services
            .office
            .audit(
                Some(operator),
                "legal_order.recorded",
                &format!("legal order {}", recorded.id),
            )
            .await?;
        Ok(LegalOrderRecorded::Created(Json(LegalOrderView::from(
            &recorded,
        ))))
    }

    /// Approve a legal order (operators); audited.
    #[oai(
        path = "/admin/legal-orders/:id/approve",
        method = "post",
        tag = "Tag::Admin"
    )]
    async fn approve_legal_order(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        id: Path<String>,
    ) -> ApiResult<Json<LegalOrderView>> {
        let operator = auth.0.operator.id;
        let approved = match state
            .services
            .disclosures
            .approve_legal_order(&id.0, operator)
            .await
        {
            Err(kikeru_domain::StoreError::NotFound) => {
                return Err(ApiError::not_found(
                    "legal_order_not_found",
                    "There is no such legal order",
                ));
            }
            other => other?,
        };
        state
            .services
            .office
            .audit(
                Some(operator),
                "legal_order.approved",
                &format!("legal order {}", approved.id),
            )
            .await?;
        Ok(Json(LegalOrderView::from(&approved)))
    }

    /// Every recorded legal order (operators).
    #[oai(path = "/admin/legal-orders", method = "get", tag = "Tag::Admin")]
    async fn legal_orders(
        &self,
        state: Data<&AppState>,
        _auth: OperatorSession,
    ) -> ApiResult<Json<Vec<LegalOrderView>>> {
        Ok(Json(
            state
                .services
                .disclosures
                .legal_orders()
                .await?
                .iter()
                .map(LegalOrderView::from)
                .collect(),
        ))
    }

    /// Every purpose (operators).
    #[oai(path = "/admin/purposes", method = "get", tag = "Tag::Admin")]
    async fn purposes(
        &self,
        state: Data<&AppState>,
        _auth: OperatorSession,
    ) -> ApiResult<Json<Vec<PurposeView>>> {
        Ok(Json(
            state
                .services
                .consents
                .purposes()
                .await?
                .iter()
                .map(PurposeView::from)
                .collect(),
        ))
    }

    /// Mail members for a purpose (administrators): only those whose consent covers the
    /// purpose's current notice receive it, each in their language; members who asked for
    /// this use to stop are skipped. Audited.
    #[oai(
        path = "/admin/purposes/:key/mailings",
        method = "post",
        tag = "Tag::Admin"
    )]
    async fn mail_purpose(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        /// The purpose's key.
        #[oai(validator(pattern = "^[a-z0-9-]{1,64}$"))]
        key: Path<String>,
        body: Json<LetterInput>,
    ) -> ApiResult<Json<MailingView>> {
        let letter = kikeru_domain::privacy::mailing::Letter {
            subject_ja: body.0.subject_ja.into(),
            body_ja: body.0.body_ja.into(),
            subject_en: body.0.subject_en.into(),
            body_en: body.0.body_en.into(),
        };
        let sent = state
            .services
            .mailing
            .send(&auth.0.operator, &key.0, &letter)
            .await
            .map_err(mailing_error)?;
        let detail = format!(
            "purpose {}: {} sent, {} stopped, {} not consenting",
            key.0, sent.sent, sent.stopped, sent.not_consenting
        );
        state
            .services
            .office
            .audit(Some(auth.0.operator.id), "purpose.mailed", &detail)
            .await?;
        Ok(Json(MailingView {
            sent: sent.sent,
            not_consenting: sent.not_consenting,
            stopped: sent.stopped,
        }))
    }

    /// Add or change a purpose (operators); audited.
    #[oai(path = "/admin/purposes/:key", method = "put", tag = "Tag::Admin")]
    async fn save_purpose(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        /// The register key: 1–64 lower-case letters, digits and `-`.
        #[oai(validator(pattern = "^[a-z0-9-]{1,64}$"))]
        key: Path<String>,
        body: Json<PurposeInput>,
    ) -> ApiResult<Json<PurposeView>> {
        let purpose = purpose_from(&key.0, &body.0)?;
        if let Some(recipient) = &purpose.recipient {
            let partners = state.services.disclosures.partners().await?;
            if !partners.iter().any(|p| p.key == *recipient) {
                return Err(ApiError::unprocessable(
                    "unknown_partner",
                    "The purpose names a partner that is not registered",
                    format!(
                        "register the partner {recipient} at /admin/partners/{recipient} first"
                    ),
                ));
            }
        }
        let saved = state.services.consents.save_purpose(purpose).await?;
        let detail = format!(
            "purpose {} at notice version {}",
            saved.key, saved.notice_version
        );
        state
            .services
            .office
            .audit(Some(auth.0.operator.id), "purpose.saved", &detail)
            .await?;
        Ok(Json(PurposeView::from(&saved)))
    }
}
