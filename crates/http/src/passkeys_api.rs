//! The JSON API of passkeys: adding, listing, renaming and removing them under
//! `/me/passkeys`, and signing in with one under `/sessions/passkey`. Bodies follow the
//! WebAuthn Level 3 JSON forms (`PublicKeyCredentialCreationOptionsJSON`,
//! `RegistrationResponseJSON`, …): binary values are unpadded base64url, so a page passes
//! the browser's `toJSON()` through unchanged.

use kikeru_domain::membership::passkey::{
    AssertionResponse, Passkey, PasskeyError, PasskeyId, RegistrationResponse,
};
use kikeru_domain::membership::second_factor::RecoveryCode;
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AppState;
use crate::api::SignedIn;
use crate::auth::Session;
use crate::client::client;
use crate::problem::ApiError;
use crate::text::JsonString;

type ApiResult<T> = Result<T, ApiError>;

/// How long the browser may take (milliseconds), as long as the ceremony lives.
const TIMEOUT_MS: u64 = 300_000;

#[derive(Tags)]
enum Tag {
    /// Passkeys (WebAuthn): sign in with the device's fingerprint, face or PIN.
    Passkeys,
}

fn b64(bytes: &[u8]) -> String {
    data_encoding::BASE64URL_NOPAD.encode(bytes)
}

/// A binary value of the browser's answer. The schema allows only base64url's alphabet; a
/// value that still does not decode is a malformed answer, refused like any other.
fn unb64(text: &str) -> Option<Vec<u8>> {
    data_encoding::BASE64URL_NOPAD
        .decode(text.trim_end_matches('=').as_bytes())
        .ok()
}

fn refused_answer() -> ApiError {
    kikeru_domain::membership::FactorError::Passkey(PasskeyError::Malformed("base64url")).into()
}

fn failed_sign_in() -> ApiError {
    kikeru_domain::membership::SignInError::InvalidCredentials.into()
}

/// A passkey of the member.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct PasskeyView {
    /// Its ID.
    id: Uuid,
    /// The member's name for it.
    name: String,
    /// When it was added.
    created_at: OffsetDateTime,
    /// When it was last used to sign in.
    last_used_at: Option<OffsetDateTime>,
}

impl From<&Passkey> for PasskeyView {
    fn from(p: &Passkey) -> Self {
        Self {
            id: *p.id.as_uuid(),
            name: p.name.clone(),
            created_at: p.created_at,
            last_used_at: p.last_used_at,
        }
    }
}

/// A credential type and ID.
#[derive(Debug, Object)]
struct CredentialDescriptor {
    /// Always `public-key`.
    #[oai(rename = "type")]
    kind: String,
    /// The credential ID (base64url).
    id: String,
}

/// The relying party.
#[derive(Debug, Object)]
struct RelyingParty {
    /// Its ID (a domain).
    id: String,
    /// Its name.
    name: String,
}

/// The account the passkey is for.
#[derive(Debug, Object)]
struct UserEntity {
    /// The user handle (base64url): an opaque ID, never the address.
    id: String,
    /// The name the authenticator shows (the address).
    name: String,
    /// The same, for display.
    #[oai(rename = "displayName")]
    display_name: String,
}

/// An accepted algorithm.
#[derive(Debug, Object)]
struct CredentialParameter {
    /// Always `public-key`.
    #[oai(rename = "type")]
    kind: String,
    /// The COSE algorithm number.
    alg: i64,
}

/// What the authenticator must be able to do.
#[derive(Debug, Object)]
struct AuthenticatorSelection {
    /// `required`: a discoverable credential (sign-in without an address).
    #[oai(rename = "residentKey")]
    resident_key: String,
    /// `true`, for older browsers.
    #[oai(rename = "requireResidentKey")]
    require_resident_key: bool,
    /// `required`: the device checks a fingerprint, face or PIN.
    #[oai(rename = "userVerification")]
    user_verification: String,
}

/// `PublicKeyCredentialCreationOptionsJSON`.
#[derive(Debug, Object)]
struct CreationOptions {
    /// The challenge (base64url).
    challenge: String,
    /// The relying party.
    rp: RelyingParty,
    /// The account.
    user: UserEntity,
    /// The accepted algorithms, preferred first.
    #[oai(rename = "pubKeyCredParams")]
    pub_key_cred_params: Vec<CredentialParameter>,
    /// Milliseconds the browser may take.
    timeout: u64,
    /// `none`: no attestation is asked for or used.
    attestation: String,
    /// What the authenticator must do.
    #[oai(rename = "authenticatorSelection")]
    authenticator_selection: AuthenticatorSelection,
    /// The member's passkeys already registered.
    #[oai(rename = "excludeCredentials")]
    exclude_credentials: Vec<CredentialDescriptor>,
}

/// `PublicKeyCredentialRequestOptionsJSON`.
#[derive(Debug, Object)]
struct RequestOptions {
    /// The challenge (base64url).
    challenge: String,
    /// The relying-party ID.
    #[oai(rename = "rpId")]
    rp_id: String,
    /// Milliseconds the browser may take.
    timeout: u64,
    /// `required`.
    #[oai(rename = "userVerification")]
    user_verification: String,
    /// Empty: the authenticator offers the member's discoverable passkeys.
    #[oai(rename = "allowCredentials")]
    allow_credentials: Vec<CredentialDescriptor>,
}

/// A registration ceremony to pass to `navigator.credentials.create()`.
#[derive(Debug, Object)]
struct CreationStart {
    /// Send it back with the answer (`POST /me/passkeys`).
    ceremony: String,
    /// The options (`PublicKeyCredential.parseCreationOptionsFromJSON`).
    #[oai(rename = "publicKey")]
    public_key: CreationOptions,
}

/// A sign-in ceremony to pass to `navigator.credentials.get()`.
#[derive(Debug, Object)]
struct RequestStart {
    /// Send it back with the answer (`POST /sessions/passkey`).
    ceremony: String,
    /// The options (`PublicKeyCredential.parseRequestOptionsFromJSON`).
    #[oai(rename = "publicKey")]
    public_key: RequestOptions,
}

/// `AuthenticatorAttestationResponseJSON` (the parts the service reads).
#[derive(Debug, Object)]
struct AttestationJson {
    /// base64url.
    #[oai(
        rename = "clientDataJSON",
        validator(max_length = 4096, pattern = r"^[A-Za-z0-9_-]*={0,2}$")
    )]
    client_data_json: String,
    /// base64url.
    #[oai(
        rename = "attestationObject",
        validator(max_length = 16384, pattern = r"^[A-Za-z0-9_-]*={0,2}$")
    )]
    attestation_object: String,
}

/// `RegistrationResponseJSON` (the parts the service reads).
#[derive(Debug, Object)]
struct RegistrationJson {
    /// The credential ID (base64url).
    #[oai(validator(max_length = 1400, pattern = r"^[A-Za-z0-9_-]*={0,2}$"))]
    id: String,
    /// The authenticator's answer.
    response: AttestationJson,
}

/// A new passkey.
#[derive(Debug, Object)]
struct NewPasskey {
    /// The ceremony from `POST /me/passkeys/options`.
    #[oai(validator(max_length = 512, pattern = r"^[A-Za-z0-9_-]+$"))]
    ceremony: String,
    /// The member's name for it (1–64 characters).
    #[oai(validator(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*\S[^\x00-\x1F\x7F-\x9F]*$"
    ))]
    name: JsonString,
    /// The browser's `credential.toJSON()`.
    credential: RegistrationJson,
}

/// The passkey added, and the first recovery codes when it is the first second factor.
#[derive(Debug, Object)]
struct PasskeyAdded {
    /// The passkey.
    passkey: PasskeyView,
    /// Ten recovery codes, shown this once; empty when the member already had a set.
    recovery_codes: Vec<String>,
}

/// A new name.
#[derive(Debug, Object)]
struct PasskeyRename {
    /// 1–64 characters.
    #[oai(validator(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*\S[^\x00-\x1F\x7F-\x9F]*$"
    ))]
    name: JsonString,
}

/// `AuthenticatorAssertionResponseJSON`.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct AssertionJson {
    /// base64url.
    #[oai(
        rename = "clientDataJSON",
        validator(max_length = 4096, pattern = r"^[A-Za-z0-9_-]*={0,2}$")
    )]
    client_data_json: String,
    /// base64url.
    #[oai(
        rename = "authenticatorData",
        validator(max_length = 4096, pattern = r"^[A-Za-z0-9_-]*={0,2}$")
    )]
    authenticator_data: String,
    /// base64url.
    #[oai(validator(max_length = 2048, pattern = r"^[A-Za-z0-9_-]*={0,2}$"))]
    signature: String,
    /// base64url; a discoverable passkey sends it.
    #[oai(
        rename = "userHandle",
        validator(max_length = 128, pattern = r"^[A-Za-z0-9_-]*={0,2}$")
    )]
    user_handle: Option<String>,
}

/// `AuthenticationResponseJSON` (the parts the service reads).
#[derive(Debug, Object)]
struct AuthenticationJson {
    /// The credential ID (base64url).
    #[oai(validator(max_length = 1400, pattern = r"^[A-Za-z0-9_-]*={0,2}$"))]
    id: String,
    /// The authenticator's answer.
    response: AssertionJson,
}

/// A passkey sign-in.
#[derive(Debug, Object)]
struct PasskeySignIn {
    /// The ceremony from `POST /sessions/passkey/options`.
    #[oai(validator(max_length = 512, pattern = r"^[A-Za-z0-9_-]+$"))]
    ceremony: String,
    /// The browser's `credential.toJSON()`.
    credential: AuthenticationJson,
}

#[derive(Debug, ApiResponse)]
enum Added {
    /// Added.
    #[oai(status = 201)]
    Created(Json<PasskeyAdded>),
}

#[derive(Debug, ApiResponse)]
enum Done {
    /// Done.
    #[oai(status = 204)]
    Done,
}

#[derive(Debug, ApiResponse)]
enum SessionCreated {
    /// Signed in; the session cookie is set.
    #[oai(status = 201)]
    Created(Json<SignedIn>, #[oai(header = "Set-Cookie")] String),
}

fn codes(list: &[RecoveryCode]) -> Vec<String> {
    list.iter().map(RecoveryCode::expose).collect()
}

pub(crate) struct PasskeysApi;

#[OpenApi]
impl PasskeysApi {
    /// The member's passkeys, oldest first.
    #[oai(path = "/me/passkeys", method = "get", tag = "Tag::Passkeys")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: Session,
    ) -> ApiResult<Json<Vec<PasskeyView>>> {
        let passkeys = state.services.membership.passkeys(&auth.0).await?;
        Ok(Json(passkeys.iter().map(PasskeyView::from).collect()))
    }

    /// Start adding a passkey: pass `publicKey` to `navigator.credentials.create()` and send
    /// the answer with the ceremony to `POST /me/passkeys` within five minutes. Needs a
    /// recent authentication.
    #[oai(path = "/me/passkeys/options", method = "post", tag = "Tag::Passkeys")]
    async fn registration_options(
        &self,
        state: Data<&AppState>,
        auth: Session,
    ) -> ApiResult<Json<CreationStart>> {
        let options = state
            .services
            .membership
            .begin_passkey_registration(&auth.0)
            .await?;
        let (handle, name, exclude) = options.user.unwrap_or_default();
        Ok(Json(CreationStart {
            ceremony: options.ceremony,
            public_key: CreationOptions {
                challenge: b64(&options.challenge),
                rp: RelyingParty {
                    id: options.rp_id,
                    name: "Minna Kikeru".to_owned(),
                },
                user: UserEntity {
                    id: b64(&handle),
                    display_name: name.clone(),
                    name,
                },
                pub_key_cred_params: kikeru_domain::membership::passkey::ALGORITHMS
                    .iter()
                    .map(|alg| CredentialParameter {
                        kind: "public-key".to_owned(),
                        alg: *alg,
                    })
                    .collect(),
                timeout: TIMEOUT_MS,
                attestation: "none".to_owned(),
                authenticator_selection: AuthenticatorSelection {
                    resident_key: "required".to_owned(),
                    require_resident_key: true,
                    user_verification: "required".to_owned(),
                },
                exclude_credentials: exclude
                    .iter()
                    .map(|id| CredentialDescriptor {
                        kind: "public-key".to_owned(),
                        id: b64(id),
                    })
                    .collect(),
            },
        }))
    }

    /// Add a passkey with the browser's answer. The first second factor also brings ten
    /// recovery codes, shown this once. Needs a recent authentication.
    #[oai(path = "/me/passkeys", method = "post", tag = "Tag::Passkeys")]
    async fn add(
        &self,
        state: Data<&AppState>,
        auth: Session,
        body: Json<NewPasskey>,
    ) -> ApiResult<Added> {
        let body = body.0;
        // The credential's `id` is what the authenticator data attests; it is read from there.
        let response = match (
            unb64(&body.credential.id),
            unb64(&body.credential.response.client_data_json),
            unb64(&body.credential.response.attestation_object),
        ) {
            (Some(_), Some(client_data_json), Some(attestation_object)) => RegistrationResponse {
                client_data_json,
                attestation_object,
            },
            _ => return Err(refused_answer()),
        };
        let (passkey, made) = state
            .services
            .membership
            .finish_passkey_registration(&auth.0, &body.ceremony, &response, &body.name)
            .await?;
        Ok(Added::Created(Json(PasskeyAdded {
            passkey: PasskeyView::from(&passkey),
            recovery_codes: codes(&made),
        })))
    }

    /// Rename a passkey.
    #[oai(path = "/me/passkeys/:id", method = "patch", tag = "Tag::Passkeys")]
    async fn rename(
        &self,
        state: Data<&AppState>,
        auth: Session,
        id: Path<Uuid>,
        body: Json<PasskeyRename>,
    ) -> ApiResult<Json<PasskeyView>> {
        let id = PasskeyId::from_uuid(id.0);
        state
            .services
            .membership
            .rename_passkey(&auth.0, id, &body.name)
            .await?;
        let passkeys = state.services.membership.passkeys(&auth.0).await?;
        let renamed = passkeys
            .iter()
            .find(|p| p.id == id)
            .ok_or_else(|| ApiError::not_found("passkey_not_found", "No such passkey"))?;
        Ok(Json(PasskeyView::from(renamed)))
    }

    /// Remove a passkey; with no second factor left, the recovery codes go too. Needs a
    /// recent authentication.
    #[oai(path = "/me/passkeys/:id", method = "delete", tag = "Tag::Passkeys")]
    async fn remove(
        &self,
        state: Data<&AppState>,
        auth: Session,
        id: Path<Uuid>,
    ) -> ApiResult<Done> {
        state
            .services
            .membership
            .remove_passkey(&auth.0, PasskeyId::from_uuid(id.0))
            .await?;
        Ok(Done::Done)
    }

    /// Start a passkey sign-in: pass `publicKey` to `navigator.credentials.get()` (no address
    /// needed: the device offers its passkeys for this site) and send the answer with the
    /// ceremony to `POST /sessions/passkey` within five minutes.
    #[oai(
        path = "/sessions/passkey/options",
        method = "post",
        tag = "Tag::Passkeys"
    )]
    async fn sign_in_options(
        &self,
        state: Data<&AppState>,
        req: &Request,
    ) -> ApiResult<Json<RequestStart>> {
        let options = state
            .services
            .membership
            .begin_passkey_sign_in(&client(req, &state.config))
            .await?;
        Ok(Json(RequestStart {
            ceremony: options.ceremony,
            public_key: RequestOptions {
                challenge: b64(&options.challenge),
                rp_id: options.rp_id,
                timeout: TIMEOUT_MS,
                user_verification: "required".to_owned(),
                allow_credentials: Vec::new(),
            },
        }))
    }

    /// Sign in with a passkey. Sets the session cookie; any session the request carried ends
    /// (also one waiting for its second factor: a passkey is two factors). In a signed-in
    /// browser it re-authenticates for sensitive changes. Failures answer alike.
    #[oai(path = "/sessions/passkey", method = "post", tag = "Tag::Passkeys")]
    async fn sign_in(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<PasskeySignIn>,
    ) -> ApiResult<SessionCreated> {
        let body = body.0;
        let answer = &body.credential.response;
        let user_handle = match answer.user_handle.as_deref().filter(|h| !h.is_empty()) {
            Some(handle) => Some(unb64(handle).ok_or_else(failed_sign_in)?),
            None => None,
        };
        let response = match (
            unb64(&body.credential.id),
            unb64(&answer.client_data_json),
            unb64(&answer.authenticator_data),
            unb64(&answer.signature),
        ) {
            (
                Some(credential_id),
                Some(client_data_json),
                Some(authenticator_data),
                Some(signature),
            ) => AssertionResponse {
                credential_id,
                client_data_json,
                authenticator_data,
                signature,
                user_handle,
            },
            _ => return Err(failed_sign_in()),
        };
        let previous = state.config.cookie().token(req);
        let created = state
            .services
            .membership
            .finish_passkey_sign_in(
                &body.ceremony,
                &response,
                &client(req, &state.config),
                previous.as_ref(),
            )
            .await?;
        let (json, cookie) = crate::api::signed_in(&state, &created, created.session.created_at);
        Ok(SessionCreated::Created(json, cookie))
    }
}
