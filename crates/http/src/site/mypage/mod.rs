//! My Page (マイページ): everything about the member, viewed and changed in one place —
//! profile, address and password, library, purchases and payments, consents, the record of
//! provision to third parties, signed-in browsers, inquiries, the data download and deletion.
//! Each form posts to its own path and comes back here with a notice, or re-renders the page
//! with the error beside the form and the input kept (never a password).

use crate::site::{day_in, when_in};
use askama::Template;
use kikeru_domain::membership::{Authenticated, ChangeError, ProfileChange};
use kikeru_domain::{DisplayName, Email, Language, SessionId};
use poem::Route;
use poem::http::StatusCode;
use poem::web::{Data, Path, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::extract::{MemberForm, SignedIn};
use super::{Chrome, CsrfOnly, OrPage, Page, html, see_other};
use crate::AppState;
use crate::client::client;
use crate::site::password_problem;
super::extract::csrf_field!(
    ConsentForm,
    DeleteForm,
    EmailForm,
    PasswordForm,
    ProfileForm,
    RecipientForm
);

mod receipts;

pub(crate) use receipts::*;

/// Errors shown beside their forms.
#[derive(Debug, Default)]
pub(crate) struct FormErrors {
    profile: Option<&'static str>,
    email: Option<&'static str>,
    password: Option<&'static str>,
    delete: Option<&'static str>,
}

struct Track {
    id: String,
    title: String,
}

struct PurposeView {
    key: String,
    title: String,
    notice: String,
    granted: bool,
    /// The member consented to an earlier notice: what they agreed to has changed, and they
    /// are asked again.
    renew: bool,
    /// When the member last gave or withdrew consent, said as a sentence.
    decided: Option<String>,
}

/// The basis of a provision to a third party as the member reads it: 「ご本人の同意（お知らせ
/// メール・第1版）」 rather than `consent:news:v1`.
fn basis_text(
    basis: &kikeru_domain::privacy::Basis,
    consents: &[kikeru_domain::privacy::consent::ConsentState],
    c: &Chrome,
) -> String {
    use kikeru_domain::privacy::Basis;
    match basis {
        Basis::Consent {
            purpose,
            notice_version,
        } => {
            let title = consents
                .iter()
                .find(|s| s.purpose.key == *purpose)
                .map_or(purpose.as_str(), |s| s.purpose.title.get(c.lang));
            kikeru_i18n::fill(
                c.t("mypage.basis_consent"),
                &[("purpose", title), ("version", &notice_version.to_string())],
            )
        }
        Basis::Entrustment(processor) => {
            kikeru_i18n::fill(c.t("mypage.basis_entrustment"), &[("name", processor)])
        }
        Basis::LegalOrder(reference) => {
            kikeru_i18n::fill(c.t("mypage.basis_legal_order"), &[("reference", reference)])
        }
    }
}

/// The sign-in protection section.
pub(crate) struct SecurityView {
    totp_since: Option<String>,
    totp_pending: bool,
    recovery_codes_left: usize,
    passkeys: Vec<PasskeyRow>,
}

/// A passkey as My Page lists it.
pub(crate) struct PasskeyRow {
    id: String,
    name: String,
    created: String,
    last_used: Option<String>,
}

struct SessionView {
    id: String,
    browser: String,
    last_seen: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "mypage.html")]
struct MyPage<'a> {
    c: &'a Chrome,
    flash: Option<&'a str>,
    errors: FormErrors,
    verified: bool,
    email: String,
    new_email: String,
    display_name: String,
    member_ja: bool,
    library: Vec<Track>,
    purchases: Vec<(String, String, String, String)>,
    payments: Vec<(String, String, String)>,
    consents: Vec<PurposeView>,
    disclosures: Vec<(String, String, String, String)>,
    sessions: Vec<SessionView>,
    inquiries: Vec<(String, String, String)>,
    security: SecurityView,
    receipts: Vec<(u64, String, String)>,
    returns: Vec<(u64, String, String)>,
    kept: Vec<crate::site::pages::KeptRow>,
    /// The latest published version of the privacy policy: its line and what changed.
    policy: Option<(String, String)>,
}

fn status_key(status: kikeru_domain::PaymentStatus) -> String {
    format!("status.{}", status.as_str())
}

async fn render(
    state: &AppState,
    c: &Chrome,
    who: &Authenticated,
    status: StatusCode,
    flash: Option<&str>,
    errors: FormErrors,
    new_email: &str,
) -> Page {
    let member = &who.member;
    let lang = c.lang;
    let gathered = async {
        let library = state.services.shop.library(member.id).await?;
        let purchases = state.services.shop.purchases(member.id, None, 100).await?;
        let payments = state.services.shop.payments(member.id, None, 100).await?;
        let (consents, _) = state.services.consents.states(member.id).await?;
        let disclosures = state.services.disclosures.about(member.id).await?;
        let inquiries = state.services.contact.of_member(member.id).await?;
        Ok::<_, kikeru_domain::StoreError>((
            library,
            purchases,
            payments,
            consents,
            disclosures,
            inquiries,
        ))
    };
    let sessions = state.services.membership.sessions(who).await;
    let factors = state.services.membership.second_factor_status(who).await;
    let passkeys = state.services.membership.passkeys(who).await;
    let receipts = async {
        let receipts = state.services.receipts.of_member(member.id).await?;
        let returns = state.services.receipts.returns_of_member(member.id).await?;
        Ok::<_, kikeru_domain::StoreError>((receipts, returns))
    };
    let (gathered, receipts) = (gathered.await, receipts.await);
    let what = "My Page could not be read";
    let (library, purchases, payments, consents, disclosures, inquiries) =
        gathered.or_page(lang, what)?;
    let sessions = sessions.or_page(lang, what)?;
    let factors = factors.or_page(lang, what)?;
    let passkeys = passkeys.or_page(lang, what)?;
    let (receipts, returns) = receipts.or_page(lang, what)?;
    let page = MyPage {
        c,
        flash,
        errors,
        verified: member.is_verified(),
        email: member.email.as_str().to_owned(),
        new_email: new_email.to_owned(),
        display_name: member.display_name.as_str().to_owned(),
        member_ja: member.language == Language::Ja,
        kept: crate::site::pages::kept_rows(state, lang),
        policy: state
            .services
            .policy
            .versions()
            .await
            .unwrap_or_default()
            .last()
            .map(|v| {
                (
                    kikeru_i18n::fill(
                        c.t("privacy.version"),
                        &[
                            ("number", &v.number.to_string()),
                            ("date", &v.effective.to_string()),
                        ],
                    ),
                    v.changes(lang).to_owned(),
                )
            }),
        library: library
            .iter()
            .map(|p| Track {
                id: p.id.to_string(),
                title: p.draft.title.get(lang).to_owned(),
            })
            .collect(),
        purchases: purchases
            .iter()
            .map(|p| {
                (
                    when_in(p.paid_at, lang),
                    p.item.title.get(lang).to_owned(),
                    p.item.unit_price.tax_inclusive(lang),
                    c.t(&status_key(p.status)).to_owned(),
                )
            })
            .collect(),
        payments: payments
            .iter()
            .map(|p| {
                (
                    when_in(p.created_at, lang),
                    p.amount.tax_inclusive(lang),
                    c.t(&status_key(p.status)).to_owned(),
                )
            })
            .collect(),
        consents: consents
            .iter()
            .map(|s| PurposeView {
                key: s.purpose.key.clone(),
                title: s.purpose.title.get(lang).to_owned(),
                notice: s.purpose.notice.get(lang).to_owned(),
                granted: s.granted,
                renew: !s.granted && s.latest.as_ref().is_some_and(|r| r.granted),
                decided: s.latest.as_ref().map(|r| {
                    let key = if r.granted {
                        "mypage.consent_given_on"
                    } else {
                        "mypage.consent_withdrawn_on"
                    };
                    kikeru_i18n::fill(c.t(key), &[("day", &day_in(r.at, lang))])
                }),
            })
            .collect(),
        disclosures: disclosures
            .iter()
            .map(|e| {
                let items: Vec<&str> = e
                    .categories
                    .iter()
                    .map(|c| {
                        kikeru_i18n::lookup(
                            lang,
                            &format!("mail.incident_notice.category.{}", c.as_str()),
                        )
                        .unwrap_or(c.as_str())
                    })
                    .collect();
                let recipient = if e.recipient_details.address.is_empty() {
                    e.recipient_details.name.clone()
                } else {
                    format!(
                        "{}（{}）",
                        e.recipient_details.name, e.recipient_details.address
                    )
                };
                let separator = if lang == Language::Ja { "、" } else { ", " };
                (
                    day_in(e.at, lang),
                    recipient,
                    items.join(separator),
                    basis_text(&e.basis, &consents, c),
                )
            })
            .collect(),
        sessions: sessions
            .iter()
            .map(|s| SessionView {
                id: s.id.to_string(),
                browser: s.browser.clone(),
                last_seen: when_in(s.last_seen_at, lang),
                current: s.id == who.session.id,
            })
            .collect(),
        inquiries: inquiries
            .iter()
            .map(|i| {
                let state = if i.is_open() {
                    c.t("mypage.waiting")
                } else {
                    c.t("mypage.answered")
                };
                (
                    when_in(i.received_at, lang),
                    i.subject.clone(),
                    state.to_owned(),
                )
            })
            .collect(),
        receipts: receipts
            .iter()
            .map(|r| {
                let total = kikeru_domain::Money::new(r.content.total, r.content.currency)
                    .map(|m| m.tax_inclusive(lang))
                    .unwrap_or_default();
                (r.number, when_in(r.content.paid_at, lang), total)
            })
            .collect(),
        returns: returns
            .iter()
            .map(|r| {
                let total = kikeru_domain::Money::new(r.content.total, r.content.currency)
                    .map(|m| m.tax_inclusive(lang))
                    .unwrap_or_default();
                (r.number, when_in(r.content.refunded_at, lang), total)
            })
            .collect(),
        security: SecurityView {
            totp_since: factors.totp_since.map(|t| when_in(t, lang)),
            totp_pending: factors.totp_pending,
            recovery_codes_left: factors.recovery_codes_left,
            passkeys: passkeys
                .iter()
                .map(|p| PasskeyRow {
                    id: p.id.to_string(),
                    name: p.name.clone(),
                    created: when_in(p.created_at, lang),
                    last_used: p.last_used_at.map(|t| when_in(t, lang)),
                })
                .collect(),
        },
    };
    Ok(html(status, c, page.render(), &[]))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct DoneQuery {
    done: String,
}

fn done_message(done: &str) -> Option<&'static str> {
    match done {
        "profile" | "consent" | "revoked" => Some("mypage.saved"),
        "email" => Some("mypage.email_sent"),
        "password" => Some("mypage.password_changed"),
        "totp_on" => Some("security.totp_on_done"),
        "totp_off" => Some("security.totp_off_done"),
        "passkey_added" => Some("security.passkey_added_done"),
        "passkey_removed" => Some("security.passkey_removed_done"),
        _ => None,
    }
}

#[handler]
pub(crate) async fn show(
    state: Data<&AppState>,
    SignedIn { who, c }: SignedIn,
    Query(query): Query<DoneQuery>,
) -> Page {
    let flash = done_message(&query.done).map(|key| c.t(key));
    render(
        &state,
        &c,
        &who,
        StatusCode::OK,
        flash,
        FormErrors::default(),
        "",
    )
    .await
}

fn change_problem(e: &ChangeError) -> (StatusCode, &'static str) {
    match e {
        ChangeError::WrongPassword => (StatusCode::FORBIDDEN, "mypage.wrong_password"),
        ChangeError::Throttled(_) => (StatusCode::TOO_MANY_REQUESTS, "error.throttled"),
        ChangeError::Password(r) => (StatusCode::UNPROCESSABLE_ENTITY, password_problem(r)),
        ChangeError::SameEmail => (StatusCode::UNPROCESSABLE_ENTITY, "mypage.same_email"),
        ChangeError::NotFound => (StatusCode::NOT_FOUND, "error.not_found"),
        ChangeError::StepUp(_) => (StatusCode::FORBIDDEN, "mypage.reauth_needed"),
        ChangeError::Backend(e) => (
            crate::problem::failure(e, "a My Page change failed"),
            "error.server",
        ),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ProfileForm {
    csrf: String,
    display_name: String,
    language: String,
}

#[handler]
pub(crate) async fn profile(
    state: Data<&AppState>,
    MemberForm { who, c, form }: MemberForm<ProfileForm>,
) -> Page {
    let Ok(name) = DisplayName::parse(&form.display_name) else {
        let errors = FormErrors {
            profile: Some(c.t("mypage.display_name")),
            ..FormErrors::default()
        };
        return render(
            &state,
            &c,
            &who,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            errors,
            "",
        )
        .await;
    };
    let change = ProfileChange {
        display_name: Some(name),
        language: form.language.parse().ok(),
    };
    match state.services.membership.update_profile(&who, change).await {
        Ok(updated) => {
            // The new language takes effect at once, also over an earlier switch.
            let cookie = super::language_cookie(&state, updated.language);
            Ok(see_other("/me?done=profile#profile", &[cookie]))
        }
        Err(e) => {
            let (status, key) = change_problem(&e);
            let errors = FormErrors {
                profile: Some(c.t(key)),
                ..FormErrors::default()
            };
            render(&state, &c, &who, status, None, errors, "").await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct EmailForm {
    csrf: String,
    new_email: String,
    password: String,
}

#[handler]
pub(crate) async fn email(
    state: Data<&AppState>,
    MemberForm { who, c, form }: MemberForm<EmailForm>,
) -> Page {
    let failed = |status, key: &'static str| {
        let errors = FormErrors {
            email: Some(c.t(key)),
            ..FormErrors::default()
        };
        render(&state, &c, &who, status, None, errors, &form.new_email)
    };
    let Ok(new_email) = Email::parse(&form.new_email) else {
        return failed(StatusCode::UNPROCESSABLE_ENTITY, "error.invalid_email").await;
    };
    match state
        .services
        .membership
        .change_email(&who, &form.password, new_email)
        .await
    {
        Ok(()) => Ok(see_other("/me?done=email#profile", &[])),
        Err(ChangeError::StepUp(_)) => Ok(crate::site::confirm_first("/me#profile")),
        Err(e) => {
            let (status, key) = change_problem(&e);
            failed(status, key).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PasswordForm {
    csrf: String,
    current_password: String,
    new_password: String,
}

#[handler]
pub(crate) async fn password(
    state: Data<&AppState>,
    req: &Request,
    MemberForm { who, c, form }: MemberForm<PasswordForm>,
) -> Page {
    match state
        .services
        .membership
        .change_password(
            &who,
            &form.current_password,
            &form.new_password,
            &client(req, &state.config),
        )
        .await
    {
        Ok(created) => {
            // The session rotates: every other browser is signed out, this one continues.
            let cookie = state.config.cookie().set(
                &created.token,
                created.session.created_at,
                created.session.expires_at,
            );
            Ok(see_other("/me?done=password#profile", &[cookie]))
        }
        Err(ChangeError::StepUp(_)) => Ok(crate::site::confirm_first("/me#profile")),
        Err(e) => {
            let (status, key) = change_problem(&e);
            let errors = FormErrors {
                password: Some(c.t(key)),
                ..FormErrors::default()
            };
            render(&state, &c, &who, status, None, errors, "").await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ConsentForm {
    csrf: String,
    granted: String,
}

#[handler]
pub(crate) async fn consent(
    state: Data<&AppState>,
    Path(purpose): Path<String>,
    MemberForm { who, c, form }: MemberForm<ConsentForm>,
) -> Response {
    let granted = form.granted == "true";
    match state
        .services
        .consents
        .set(who.member.id, &purpose, granted, "web")
        .await
    {
        Ok(_) => see_other("/me?done=consent#consents", &[]),
        Err(kikeru_domain::privacy::consent::ConsentError::UnknownPurpose) => {
            super::error_page(StatusCode::NOT_FOUND, c.lang)
        }
        Err(e) => super::error_page(
            crate::problem::failure(&e, "a consent could not be recorded"),
            c.lang,
        ),
    }
}

#[handler]
pub(crate) async fn revoke(
    state: Data<&AppState>,
    Path(id): Path<String>,
    MemberForm { who, c, form: _ }: MemberForm<CsrfOnly>,
) -> Response {
    let Ok(uuid) = id.parse::<uuid::Uuid>() else {
        return super::error_page(StatusCode::NOT_FOUND, c.lang);
    };
    match state
        .services
        .membership
        .revoke_session(&who, SessionId::from_uuid(uuid))
        .await
    {
        Ok(()) => see_other("/me?done=revoked#sessions", &[]),
        Err(ChangeError::NotFound) => super::error_page(StatusCode::NOT_FOUND, c.lang),
        Err(e) => super::error_page(
            crate::problem::failure(&e, "a session could not be revoked"),
            c.lang,
        ),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct DeleteForm {
    csrf: String,
    password: String,
    /// `yes` when the member ticked that they understand what deleting ends.
    confirm: String,
}

#[handler]
pub(crate) async fn delete(
    state: Data<&AppState>,
    MemberForm { who, c, form }: MemberForm<DeleteForm>,
) -> Page {
    // Nothing is deleted until the member says they understand what it ends.
    if form.confirm != "yes" {
        let errors = FormErrors {
            delete: Some(c.t("mypage.delete_confirm_needed")),
            ..FormErrors::default()
        };
        return render(
            &state,
            &c,
            &who,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            errors,
            "",
        )
        .await;
    }
    match state
        .services
        .membership
        .delete_account(&who, &form.password)
        .await
    {
        Ok(()) => {
            let page = crate::site::MessagePage {
                c: &c,
                title: c.t("mypage.deleted_title"),
                text: c.t("mypage.deleted"),
                link: Some(("/", c.t("error.back_home"))),
            };
            let clear = state.config.cookie().clear();
            Ok(html(
                StatusCode::OK,
                &c,
                page.render(),
                &[("set-cookie", clear)],
            ))
        }
        Err(ChangeError::StepUp(_)) => Ok(crate::site::confirm_first("/me#delete")),
        Err(e) => {
            let (status, key) = change_problem(&e);
            let errors = FormErrors {
                delete: Some(c.t(key)),
                ..FormErrors::default()
            };
            render(&state, &c, &who, status, None, errors, "").await
        }
    }
}

/// My Page and the member's receipts.
pub(crate) fn routes(route: Route) -> Route {
    use poem::{get, post};
    route
        .at("/me", get(show))
        .at("/me/profile", post(profile))
        .at("/me/email", post(email))
        .at("/me/password", post(password))
        .at("/me/consents/:purpose", post(consent))
        .at("/me/sessions/:id/revoke", post(revoke))
        .at("/me/delete", post(delete))
        .at("/me/receipts/:number", get(receipt))
        .at("/me/returns/:number", get(return_invoice))
        .at("/me/receipts/:number/recipient", post(reissue))
}
