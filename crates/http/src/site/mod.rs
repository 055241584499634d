//! The member web site: server-rendered pages in Japanese (the default) and English on the same
//! use cases as the JSON API. Templates (askama) are checked at compile time and escape by
//! default; every journey works without JavaScript; forms carry a CSRF token; the pages' CSS
//! and script are files, so the Content-Security-Policy allows no inline code.

use askama::Template;
use kikeru_domain::Language;
use kikeru_domain::membership::Authenticated;
use kikeru_domain::{PasswordRejection, Timestamp};
use poem::http::{StatusCode, header};
use poem::{Request, Response};

use crate::AppState;

pub(crate) mod assets;
pub(crate) mod chart;
pub(crate) mod console;
pub(crate) mod extract;
pub(crate) mod i18n;
pub(crate) mod incidents;
pub(crate) mod mypage;
mod page_cache;
pub(crate) mod pages;
pub(crate) mod requests;
pub(crate) mod security;

pub use page_cache::PageCache;

/// The language cookie (set by the switch); it holds `ja` or `en`, nothing personal.
pub(crate) const LANG_COOKIE: &str = "kikeru_lang";
/// The CSRF cookie's names (with the `__Host-` prefix over HTTPS).
const CSRF_COOKIE: &str = "kikeru_csrf";
const CSRF_HOST_COOKIE: &str = "__Host-kikeru_csrf";

/// What every page needs: the language, the form token, whether someone is signed in, and the
/// path (for the language switch to come back to).
#[derive(Debug, Clone)]
pub(crate) struct Chrome {
    pub(crate) lang: Language,
    pub(crate) csrf: String,
    pub(crate) signed_in: bool,
    pub(crate) path: String,
    /// `Set-Cookie` values the response must carry (a fresh CSRF cookie).
    cookies: Vec<String>,
}

impl Chrome {
    /// The message `key` in the page's language.
    pub(crate) fn t(&self, key: &str) -> &'static str {
        i18n::t(self.lang, key)
    }

    /// `ja` or `en`.
    pub(crate) fn lang_tag(&self) -> &'static str {
        self.lang.tag()
    }

    /// The other language's tag, for the switch.
    pub(crate) fn other_lang(&self) -> &'static str {
        match self.lang {
            Language::Ja => "en",
            Language::En => "ja",
        }
    }

    /// Whether this browser has no cookie of ours yet (it is given one with this page): the
    /// page then says, in one line, that the service uses cookies and where they are listed.
    pub(crate) fn first_visit(&self) -> bool {
        !self.cookies.is_empty()
    }

    /// Whether the page is in Japanese.
    pub(crate) fn is_ja(&self) -> bool {
        self.lang == Language::Ja
    }
}

/// A cookie's value from the request's `Cookie` headers.
pub(crate) fn cookie<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// Percent-encodes a path for a query parameter.
pub(crate) fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The language of a request: the switch's cookie, then the member's preference, then the
/// browser's `Accept-Language`, then Japanese.
pub(crate) fn language(req: &Request, member: Option<&Authenticated>) -> Language {
    if let Some(chosen) = cookie(req, LANG_COOKIE).and_then(|v| v.parse().ok()) {
        return chosen;
    }
    if let Some(current) = member {
        return current.member.language;
    }
    accept_language(req)
}

/// The language the browser's `Accept-Language` prefers among those we speak, Japanese
/// otherwise ([`i18n::negotiate`]).
pub(crate) fn accept_language(req: &Request) -> Language {
    i18n::negotiate(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
    )
}

/// The signed-in member, if the request carries a live session.
pub(crate) async fn current(state: &AppState, req: &Request) -> Option<Authenticated> {
    let token = state.config.cookie().token(req)?;
    state.services.membership.authenticate(&token).await.ok()
}

pub(crate) fn csrf_cookie_name(state: &AppState) -> &'static str {
    if state.config.is_https() {
        CSRF_HOST_COOKIE
    } else {
        CSRF_COOKIE
    }
}

/// The page context for a request. A browser without a CSRF cookie gets a fresh one.
pub(crate) fn chrome(state: &AppState, req: &Request, member: Option<&Authenticated>) -> Chrome {
    let name = csrf_cookie_name(state);
    let (csrf, cookies) = match cookie(req, name).filter(|v| valid_token(v)) {
        Some(existing) => (existing.to_owned(), Vec::new()),
        None => {
            let (fresh, set) = fresh_csrf(state);
            (fresh, vec![set])
        }
    };
    Chrome {
        lang: language(req, member),
        csrf,
        signed_in: member.is_some(),
        path: req.uri().path().to_owned(),
        cookies,
    }
}

/// A new form token and the cookie that carries it. Given to a browser without one, and at
/// every sign-in, so that a token planted before it is worth nothing after.
pub(crate) fn fresh_csrf(state: &AppState) -> (String, String) {
    let fresh = uuid::Uuid::new_v4().simple().to_string();
    let secure = if state.config.is_https() {
        "; Secure"
    } else {
        ""
    };
    let name = csrf_cookie_name(state);
    let set = format!("{name}={fresh}; Path=/; HttpOnly; SameSite=Strict{secure}");
    (fresh, set)
}

fn valid_token(value: &str) -> bool {
    value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// How a posted form's token compares with the browser's cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FormCheck {
    /// They match.
    Ok,
    /// The browser sent no cookie at all: cookies are disabled.
    NoCookies,
    /// They differ (an old page, or a forged form).
    Expired,
}

/// A form that carries nothing but its CSRF token (sign-out, revoke a session).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(crate) struct CsrfOnly {
    pub(crate) csrf: String,
}

extract::csrf_field!(CsrfOnly);

/// Checks a posted form's CSRF token against the cookie, in constant time.
pub(crate) fn check_form(state: &AppState, req: &Request, sent: &str) -> FormCheck {
    let Some(expected) = cookie(req, csrf_cookie_name(state)) else {
        return FormCheck::NoCookies;
    };
    let same = expected.len() == sent.len()
        && expected
            .bytes()
            .zip(sent.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same && valid_token(sent) {
        FormCheck::Ok
    } else {
        FormCheck::Expired
    }
}

/// An HTML response with the page's cookies and `extra` headers.
pub(crate) fn html(
    status: StatusCode,
    chrome: &Chrome,
    body: Result<String, askama::Error>,
    extra: &[(&str, String)],
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "a template failed to render");
            return Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .content_type("text/plain; charset=utf-8")
                .body("500");
        }
    };
    let mut builder = Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        // Pages may show personal data: never cached.
        .header(header::CACHE_CONTROL, "no-store");
    for cookie in &chrome.cookies {
        builder = builder.header(header::SET_COOKIE, cookie.as_str());
    }
    for (name, value) in extra {
        builder = builder.header(*name, value.as_str());
    }
    builder.body(body)
}

/// The address a visitor's catalogue page is kept under: its path and query.
/// A first visit's page carries the cookie notice, so it is kept apart.
fn address(req: &Request, chrome: &Chrome) -> String {
    let address = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path(), |p| p.as_str());
    if chrome.first_visit() {
        format!("first-visit {address}")
    } else {
        address.to_owned()
    }
}

/// The catalogue page at this request's address as rendered before from shelf `version`, for a
/// visitor who is not signed in ([`PageCache`]).
pub(crate) fn kept_page(
    state: &AppState,
    req: &Request,
    chrome: &Chrome,
    version: Option<u64>,
) -> Option<Response> {
    if chrome.signed_in {
        return None;
    }
    let page = state
        .pages
        .get(version, chrome.lang, &address(req, chrome))?;
    Some(tagged(
        req,
        StatusCode::OK,
        chrome,
        page.body.clone(),
        &page.etag,
    ))
}

/// A page of the public catalogue, with an `ETag` of its bytes: a browser that already holds
/// these bytes (`If-None-Match`) gets `304 Not Modified` and no body. A visitor's browser may
/// keep the page but must ask again each time (`private, no-cache`); a member's pages are still
/// never stored. A visitor's page is kept for the next visitor ([`kept_page`]).
pub(crate) fn catalogue_page(
    state: &AppState,
    req: &Request,
    status: StatusCode,
    chrome: &Chrome,
    version: Option<u64>,
    body: Result<String, askama::Error>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) => return html(status, chrome, Err(e), &[]),
    };
    if chrome.signed_in || status != StatusCode::OK {
        let tag = etag(body.as_bytes());
        return tagged(req, status, chrome, body, &tag);
    }
    let page = state
        .pages
        .put(version, chrome.lang, &address(req, chrome), body);
    tagged(req, status, chrome, page.body.clone(), &page.etag)
}

/// `body` with its entity tag `tag`, or `304` when the browser holds it already.
fn tagged(req: &Request, status: StatusCode, chrome: &Chrome, body: String, tag: &str) -> Response {
    let cache = if chrome.signed_in {
        "no-store"
    } else {
        "private, no-cache"
    };
    if holds(req, tag) && status == StatusCode::OK {
        let mut builder = Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .header(header::ETAG, tag)
            .header(header::CACHE_CONTROL, cache)
            .header(header::VARY, "Cookie, Accept-Language");
        for cookie in &chrome.cookies {
            builder = builder.header(header::SET_COOKIE, cookie.as_str());
        }
        return builder.finish();
    }
    let mut response = html(
        status,
        chrome,
        Ok(body),
        &[
            ("etag", tag.to_owned()),
            ("vary", "Cookie, Accept-Language".to_owned()),
        ],
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        poem::http::HeaderValue::from_static(cache),
    );
    response
}

/// Whether the request's `If-None-Match` names `tag` (or `*`): the client holds these bytes.
pub(crate) fn holds(req: &Request, tag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == tag)
}

/// A strong entity tag for `bytes`: their length and a 64-bit hash (SipHash with fixed keys, the
/// same in every process of one build), enough that two versions of one page never share one.
fn etag(bytes: &[u8]) -> String {
    use std::hash::Hasher;
    let mut hasher = std::hash::DefaultHasher::new();
    hasher.write(bytes);
    format!("\"{:x}-{:016x}\"", bytes.len(), hasher.finish())
}

/// A `303 See Other` to a path of ours, with cookies.
pub(crate) fn see_other(location: &str, cookies: &[String]) -> Response {
    let mut builder = Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .header(header::CACHE_CONTROL, "no-store");
    for cookie in cookies {
        builder = builder.header(header::SET_COOKIE, cookie.as_str());
    }
    builder.finish()
}

/// Whether `path` is a local path safe to redirect to: one `/` followed by neither `/` nor
/// `\`, with no backslash or control character anywhere. Browsers drop TAB, CR and LF from a
/// URL before reading it (WHATWG URL), so `/<TAB>/evil.example` would be `//evil.example`,
/// another site; and they read `\` as `/`.
pub(crate) fn local_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    !rest.starts_with('/') && !path.contains('\\') && !path.chars().any(char::is_control)
}

/// The language cookie for `lang`, kept a year.
pub(crate) fn language_cookie(state: &AppState, lang: Language) -> String {
    let secure = if state.config.is_https() {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000{secure}",
        lang.tag()
    )
}

/// A page that cannot be made, answered with the error page for its status in the reader's
/// language. Handlers return [`Page`] and use `?`; [`OrPage::or_page`] turns a use case's
/// failure into one, classified (and logged with its causes) once, by
/// [`crate::problem::failure`], as the API's problem documents are.
#[derive(Debug)]
pub(crate) struct PageError {
    status: StatusCode,
    lang: Language,
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the page answered {}", self.status)
    }
}

impl std::error::Error for PageError {}

impl PageError {
    /// The error page for `status`.
    pub(crate) const fn new(status: StatusCode, lang: Language) -> Self {
        Self { status, lang }
    }

    /// The page for a use case that failed for a reason the reader cannot fix.
    pub(crate) fn failed(
        lang: Language,
        e: &(dyn std::error::Error + 'static),
        what: &str,
    ) -> Self {
        Self::new(crate::problem::failure(e, what), lang)
    }
}

impl poem::error::ResponseError for PageError {
    fn status(&self) -> StatusCode {
        self.status
    }

    fn as_response(&self) -> Response {
        error_page(self.status, self.lang)
    }
}

/// What a page handler answers: the page, or the error page.
pub(crate) type Page = Result<Response, PageError>;

/// `?` on a use case's result in a page handler.
pub(crate) trait OrPage<T> {
    /// The value, or the error page for the failure (`what` names the step, for the log).
    fn or_page(self, lang: Language, what: &str) -> Result<T, PageError>;
}

impl<T, E: std::error::Error + 'static> OrPage<T> for Result<T, E> {
    fn or_page(self, lang: Language, what: &str) -> Result<T, PageError> {
        self.map_err(|e| PageError::failed(lang, &e, what))
    }
}

/// The error page for a status, in the request's language (for the edge, which turns errors on
/// site paths into pages rather than problem documents).
pub(crate) fn error_page(status: StatusCode, req_lang: Language) -> Response {
    let chrome = Chrome {
        lang: req_lang,
        csrf: String::new(),
        signed_in: false,
        path: "/".to_owned(),
        cookies: Vec::new(),
    };
    let (title, text) = match status {
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => {
            ("error.not_found_title", "error.not_found")
        }
        StatusCode::TOO_MANY_REQUESTS => ("error.server_title", "error.throttled"),
        StatusCode::FORBIDDEN | StatusCode::BAD_REQUEST => ("error.server_title", "error.expired"),
        _ => ("error.server_title", "error.server"),
    };
    let page = MessagePage {
        c: &chrome,
        title: chrome.t(title),
        text: chrome.t(text),
        link: Some(("/", chrome.t("error.back_home"))),
    };
    html(status, &chrome, askama::Template::render(&page), &[])
}

/// A page that only says something.
#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct MessagePage<'a> {
    pub(crate) c: &'a Chrome,
    pub(crate) title: &'a str,
    pub(crate) text: &'a str,
    pub(crate) link: Option<(&'a str, &'a str)>,
}

pub(crate) fn message(status: StatusCode, c: &Chrome, title: &str, text: &str) -> Response {
    let page = MessagePage {
        c,
        title,
        text,
        link: Some(("/", c.t("error.back_home"))),
    };
    html(status, c, page.render(), &[])
}

/// The answer to a form whose token does not check out.
pub(crate) fn refused_form(c: &Chrome, check: FormCheck) -> Response {
    match check {
        FormCheck::NoCookies => message(
            StatusCode::BAD_REQUEST,
            c,
            c.t("cookies.title"),
            c.t("cookies.body"),
        ),
        _ => message(
            StatusCode::FORBIDDEN,
            c,
            c.t("error.server_title"),
            c.t("error.expired"),
        ),
    }
}

/// The page context of a posted form, or the page that refuses it: cookies disabled, or a
/// form token that does not match the browser's (an old page, or a forged form).
#[allow(
    clippy::result_large_err,
    reason = "the refusal is the page itself, returned at once"
)]
pub(crate) fn posted_form(
    state: &AppState,
    req: &Request,
    member: Option<&kikeru_domain::membership::Authenticated>,
    csrf: &str,
) -> Result<Chrome, Response> {
    let c = chrome(state, req, member);
    match check_form(state, req, csrf) {
        FormCheck::Ok => Ok(c),
        check => Err(refused_form(&c, check)),
    }
}

/// The message for a refused password, in the page's language.
pub(crate) fn password_problem(r: &PasswordRejection) -> &'static str {
    match r {
        PasswordRejection::TooShort { .. } => "password.too_short",
        PasswordRejection::TooLong { .. } => "password.too_long",
        PasswordRejection::Common => "password.common",
        PasswordRejection::Personal => "password.personal",
        PasswordRejection::TooWeak { .. } => "password.too_weak",
        PasswordRejection::Predictable => "password.predictable",
    }
}

/// A time as members read it: Japan time, to the minute.
pub(crate) fn when(t: Timestamp) -> String {
    t.to_offset(time::macros::offset!(+9))
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]"
        ))
        .unwrap_or_default()
}

/// A time as members read it, in Japan time and saying so: 「2026年4月1日 9:05（日本時間）」,
/// "1 April 2026, 09:05 (Japan time)".
pub(crate) fn when_in(t: Timestamp, lang: Language) -> String {
    let local = t.to_offset(time::macros::offset!(+9));
    let text = match lang {
        Language::Ja => local.format(time::macros::format_description!(
            "[year]年[month padding:none]月[day padding:none]日 [hour padding:none]:[minute]"
        )),
        Language::En => local.format(time::macros::format_description!(
            "[day padding:none] [month repr:long] [year], [hour]:[minute]"
        )),
    }
    .unwrap_or_default();
    kikeru_i18n::fill(i18n::t(lang, "site.japan_time"), &[("when", &text)])
}

/// How an order is paid, naming the provider whose page takes the payment.
pub(crate) fn payment_terms(provider: &str, lang: Language) -> String {
    let name =
        kikeru_i18n::lookup(lang, &format!("confirm.provider_{provider}")).unwrap_or(provider);
    kikeru_i18n::fill(i18n::t(lang, "confirm.payment"), &[("provider", name)])
}

/// A day as members read it (in Japan): 「2026年4月1日」, "1 April 2026".
pub(crate) fn day_in(t: Timestamp, lang: Language) -> String {
    let local = t.to_offset(time::macros::offset!(+9));
    match lang {
        Language::Ja => local.format(time::macros::format_description!(
            "[year]年[month padding:none]月[day padding:none]日"
        )),
        Language::En => local.format(time::macros::format_description!(
            "[day padding:none] [month repr:long] [year]"
        )),
    }
    .unwrap_or_default()
}

/// Sends the member to confirm it is them, and back to `back` afterwards.
pub(crate) fn confirm_first(back: &str) -> Response {
    see_other(&format!("/me/reauthenticate?back={}", encode(back)), &[])
}

/// The second step of signing in, for a session that passed the password.
pub(crate) fn second_step(back: &str) -> String {
    format!("/login/second-factor?back={}", encode(back))
}
