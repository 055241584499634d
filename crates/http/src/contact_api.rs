//! Inquiries: the contact form (`POST /inquiries`, open to everyone; a signed-in member's
//! inquiry is linked to their ID) and the operators' desk (`/admin/inquiries…`) where they are
//! read and answered. Every operator step is audited.

use crate::text::JsonString;
use kikeru_domain::office::inquiry::{
    AnswerError, ContactError, ContactForm, Inquiry, InquiryId, MAX_BODY,
};
use kikeru_domain::{Email, Language};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AppState;
use crate::api::LanguageTag;
use crate::auth::OperatorSession;
use crate::client::client;
use crate::problem::{ApiError, invalid_email};

type ApiResult<T> = Result<T, ApiError>;

#[derive(Tags)]
enum Tag {
    /// お問い合わせ: the contact form.
    Inquiries,
    /// The office (事務局): operators only.
    Admin,
}

/// What the contact form sends.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct InquiryBody {
    /// Where to answer.
    #[oai(validator(max_length = 320))]
    email: JsonString,
    /// Your name (optional).
    #[oai(nullable, validator(max_length = 400))]
    name: Option<JsonString>,
    /// The subject, 1 to 200 characters.
    #[oai(validator(max_length = 800))]
    subject: JsonString,
    /// Your message, 1 to 10,000 characters.
    #[oai(validator(max_length = 40000))]
    message: JsonString,
    /// The language to answer in (default `ja`).
    #[oai(nullable)]
    language: Option<LanguageTag>,
    /// Leave empty: a field people never see (bots fill it in).
    #[oai(nullable, validator(max_length = 1000))]
    website: Option<JsonString>,
}

/// The inquiry was taken.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct InquiryAccepted {
    /// Always `received`.
    status: String,
    /// What happens next.
    message: String,
}

#[derive(Debug, ApiResponse)]
enum InquiryTaken {
    /// Received; an acknowledgement with the inquiry's reference is mailed.
    #[oai(status = 202)]
    Accepted(Json<InquiryAccepted>),
}

/// An attachment noted on an inquiry by mail (not stored).
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct AttachmentView {
    /// Its file name.
    name: String,
    /// Its media type.
    content_type: String,
    /// Its size in bytes.
    size: u64,
}

/// An operator's answer.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub(crate) struct AnswerView {
    /// Who answered.
    operator: String,
    /// The answer, as mailed.
    body: String,
    /// When.
    at: OffsetDateTime,
}

/// An inquiry.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub(crate) struct InquiryView {
    /// Its ID.
    id: Uuid,
    /// The reference people quote.
    reference: String,
    /// The member who sent it while signed in.
    member_id: Option<Uuid>,
    /// Where to answer.
    email: String,
    /// The sender's name.
    name: Option<String>,
    /// The subject.
    subject: String,
    /// The text.
    body: String,
    /// The language to answer in.
    language: LanguageTag,
    /// `web` (the contact form) or `mail`.
    channel: String,
    /// The mail's Message-ID.
    message_id: Option<String>,
    /// What was attached to the mail (not stored).
    attachments: Vec<AttachmentView>,
    /// When it arrived.
    received_at: OffsetDateTime,
    /// Whether it still waits for an answer.
    open: bool,
    /// The answers, oldest first.
    answers: Vec<AnswerView>,
}

impl From<&Inquiry> for InquiryView {
    fn from(i: &Inquiry) -> Self {
        Self {
            id: *i.id.as_uuid(),
            reference: i.reference.clone(),
            member_id: i.member_id.map(|m| *m.as_uuid()),
            email: i.email.as_str().to_owned(),
            name: i.name.clone(),
            subject: i.subject.clone(),
            body: i.body.clone(),
            language: i.language.into(),
            channel: i.channel.as_str().to_owned(),
            message_id: i.message_id.clone(),
            attachments: i
                .attachments
                .iter()
                .map(|a| AttachmentView {
                    name: a.name.clone(),
                    content_type: a.content_type.clone(),
                    size: a.size,
                })
                .collect(),
            received_at: i.received_at,
            open: i.is_open(),
            answers: i
                .answers
                .iter()
                .map(|a| AnswerView {
                    operator: a.operator.clone(),
                    body: a.body.clone(),
                    at: a.at,
                })
                .collect(),
        }
    }
}

/// An operator's answer to send.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct AnswerBody {
    /// The answer, 1 to 10,000 characters; it is mailed to the sender in their language's
    /// template.
    #[oai(validator(max_length = 10000, pattern = r"^[^\x00]*\S[^\x00]*$"))]
    answer: JsonString,
}

#[derive(Debug, ApiResponse)]
enum Answered {
    /// Kept with the inquiry and mailed.
    #[oai(status = 201)]
    Created(Json<InquiryView>),
}

fn contact_error(e: ContactError) -> ApiError {
    match e {
        ContactError::Invalid(problem) => ApiError::unprocessable(
            "invalid_inquiry",
            "The inquiry is not valid",
            problem.to_string(),
        ),
        ContactError::Throttled(t) => ApiError::from_throttled(t),
        ContactError::NotEntrusted(category) => ApiError::not_entrusted(category),
        ContactError::Store(e) => ApiError::store(e),
    }
}

/// The contact form's and the office's inquiry operations.
#[derive(Debug)]
pub(crate) struct ContactApi;

#[OpenApi]
impl ContactApi {
    /// Send an inquiry (the contact form). Signed-in members' inquiries are linked to their
    /// account. Limits: subject 1–200 characters, message 1–10,000; 5 inquiries an hour per
    /// client and per address. An acknowledgement with a reference is mailed.
    #[oai(path = "/inquiries", method = "post", tag = "Tag::Inquiries")]
    async fn submit(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<InquiryBody>,
    ) -> ApiResult<InquiryTaken> {
        let body = body.0;
        let email = Email::parse(&body.email).map_err(invalid_email)?;
        let member = match state.config.cookie().token(req) {
            Some(token) => state
                .services
                .membership
                .authenticate(&token)
                .await
                .ok()
                .map(|current| current.member.id),
            None => None,
        };
        let form = ContactForm {
            email,
            name: body.name.map(String::from),
            subject: body.subject.into(),
            body: body.message.into(),
            language: body.language.map_or(Language::Ja, Language::from),
            honeypot: body.website.map(String::from),
        };
        state
            .services
            .contact
            .submit(form, &client(req, &state.config), member)
            .await
            .map_err(contact_error)?;
        Ok(InquiryTaken::Accepted(Json(InquiryAccepted {
            status: "received".to_owned(),
            message: "We received your inquiry; an acknowledgement is on its way to your mailbox."
                .to_owned(),
        })))
    }

    /// Inquiries, newest first (operators); `open=true` for the unanswered ones. Audited.
    #[oai(path = "/admin/inquiries", method = "get", tag = "Tag::Admin")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        open: Query<Option<bool>>,
        /// How many (1–200, default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
    ) -> ApiResult<Json<Vec<InquiryView>>> {
        let limit = limit.0.unwrap_or(50);
        let open = open.0.unwrap_or(false);
        let found = state.services.contact.list(open, limit).await?;
        state
            .services
            .office
            .audit(
                Some(auth.0.operator.id),
                "inquiry.listed",
                &format!("{} inquiries (open only: {open})", found.len()),
            )
            .await?;
        Ok(Json(found.iter().map(InquiryView::from).collect()))
    }

    /// One inquiry with its answers (operators). Audited.
    #[oai(path = "/admin/inquiries/:id", method = "get", tag = "Tag::Admin")]
    async fn read(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        id: Path<Uuid>,
    ) -> ApiResult<Json<InquiryView>> {
        let inquiry = state
            .services
            .contact
            .inquiry(InquiryId::from_uuid(id.0))
            .await?
            .ok_or_else(|| ApiError::not_found("inquiry_not_found", "No such inquiry"))?;
        state
            .services
            .office
            .audit(
                Some(auth.0.operator.id),
                "inquiry.read",
                &format!("inquiry {}", inquiry.reference),
            )
            .await?;
        Ok(Json(InquiryView::from(&inquiry)))
    }

    /// Answer an inquiry (operators): the answer is kept with it and mailed to the sender in
    /// the same step. Audited.
    #[oai(
        path = "/admin/inquiries/:id/answers",
        method = "post",
        tag = "Tag::Admin"
    )]
    async fn answer(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        id: Path<Uuid>,
        body: Json<AnswerBody>,
    ) -> ApiResult<Answered> {
        let operator = &auth.0.operator;
        let answered = state
            .services
            .contact
            .answer(
                InquiryId::from_uuid(id.0),
                operator.email.as_str(),
                &body.0.answer,
            )
            .await
            .map_err(|e| match e {
                AnswerError::NotFound => {
                    ApiError::not_found("inquiry_not_found", "No such inquiry")
                }
                AnswerError::Invalid => ApiError::unprocessable(
                    "invalid_answer",
                    "The answer is not valid",
                    format!("An answer has 1 to {MAX_BODY} characters."),
                ),
                AnswerError::NotEntrusted(category) => ApiError::not_entrusted(category),
                AnswerError::Store(e) => ApiError::store(e),
            })?;
        state
            .services
            .office
            .audit(
                Some(operator.id),
                "inquiry.answered",
                &format!("inquiry {}", answered.reference),
            )
            .await?;
        Ok(Answered::Created(Json(InquiryView::from(&answered))))
    }
}
