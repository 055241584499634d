//! The console's privacy desk: legal orders, disclosures to third parties, the processor register with its second-administrator approvals, and partners.

use super::*;

pub(crate) struct OrderRow {
    pub(crate) id: String,
    pub(crate) authority: String,
    pub(crate) reference: String,
    pub(crate) approvals: String,
    pub(crate) can_approve: bool,
    pub(crate) state: &'static str,
}

#[derive(Template)]
#[template(path = "console_legal_orders.html")]
pub(crate) struct LegalOrdersPage<'a> {
    pub(crate) c: &'a Chrome,
    pub(crate) rows: Vec<OrderRow>,
    pub(crate) categories: Vec<&'static str>,
    pub(crate) error: Option<&'a str>,
}

/// Every data category's name, for the forms' checkboxes.
pub(crate) fn category_names() -> Vec<&'static str> {
    kikeru_domain::privacy::DataCategory::ALL
        .iter()
        .map(|c| c.as_str())
        .collect()
}

/// A posted form's fields, repeated ones (check boxes) included.
pub(crate) struct Fields(pub(crate) Vec<(String, String)>);

impl Fields {
    pub(crate) fn one(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The member IDs typed into `name`, separated by white space; `None` when one is not an
    /// ID.
    pub(crate) fn member_ids(
        &self,
        name: &str,
    ) -> Option<std::collections::BTreeSet<kikeru_domain::MemberId>> {
        self.one(name)
            .split_whitespace()
            .map(|id| id.parse().ok().map(kikeru_domain::MemberId::from_uuid))
            .collect()
    }

    /// The data categories ticked (`categories`); `None` when one is unknown.
    pub(crate) fn categories(&self) -> Option<kikeru_domain::privacy::Categories> {
        self.all("categories")
            .iter()
            .map(|c| kikeru_domain::privacy::DataCategory::from_name(c))
            .collect()
    }
}

pub(crate) fn date(text: &str) -> Option<kikeru_domain::Timestamp> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), &format)
        .ok()
        .map(|d| d.midnight().assume_utc())
}

#[handler]
pub(crate) async fn legal_orders(
    state: Data<&AppState>,
    ConsoleUser { who, c }: ConsoleUser,
) -> Page {
    legal_orders_page(&state, &c, &who, StatusCode::OK, None).await
}

pub(crate) async fn legal_orders_page(
    state: &AppState,
    c: &Chrome,
    who: &OperatorAuth,
    status: StatusCode,
    error: Option<&str>,
) -> Page {
    let orders = state
        .services
        .disclosures
        .legal_orders()
        .await
        .or_page(c.lang, "a console page could not be read")?;
    // Approvals are recorded by operator ID, as through the office API, so that one operator
    // can never count twice.
    let me = who.operator.id;
    let rows = orders
        .iter()
        .map(|o| {
            let approved = o.approved_by.len() >= 2;
            let mine = o.approved_by.contains(&me);
            OrderRow {
                id: o.id.clone(),
                authority: o.authority.clone(),
                reference: o.reference.clone(),
                approvals: o
                    .approved_by
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                can_approve: !approved && !mine,
                state: if approved {
                    c.t("console.effective")
                } else {
                    c.t("console.approved_by_you")
                },
            }
        })
        .collect();
    let page = LegalOrdersPage {
        c,
        rows,
        categories: category_names(),
        error,
    };
    Ok(html(status, c, page.render(), &[]))
}

#[handler]
pub(crate) async fn record_legal_order(
    state: Data<&AppState>,
    OperatorForm { who, c, form }: OperatorForm<Vec<(String, String)>>,
) -> Page {
    let fields = Fields(form);
    let withheld = fields.one("withheld_until");
    let (Some(members), Some(categories), Some(issued_at)) = (
        fields.member_ids("members"),
        fields.categories(),
        date(fields.one("issued_on")),
    ) else {
        return invalid_legal_order(&state, &c, &who).await;
    };
    if !withheld.is_empty() && date(withheld).is_none() {
        return invalid_legal_order(&state, &c, &who).await;
    }
    let draft = LegalOrderDraft {
        authority: fields.one("authority").to_owned(),
        reference: fields.one("reference").to_owned(),
        legal_basis: fields.one("legal_basis").to_owned(),
        issued_at,
        members,
        categories,
        notice_withheld_until: date(withheld),
    };
    match state
        .services
        .disclosures
        .record_legal_order(draft, who.operator.id)
        .await
    {
        Ok(recorded) => {
            audit(
                &state,
                &who,
                "legal_order.recorded",
                &format!("legal order {} (console)", recorded.id),
            )
            .await;
            Ok(see_other("/admin/legal-orders", &[]))
        }
        Err(LegalOrderError::Invalid(_)) => invalid_legal_order(&state, &c, &who).await,
        Err(e) => Err(PageError::failed(c.lang, &e, "a console request failed")),
    }
}

/// The legal-order form again, saying the order is not complete.
pub(crate) async fn invalid_legal_order(state: &AppState, c: &Chrome, who: &OperatorAuth) -> Page {
    let error = c.t("console.order_invalid");
    legal_orders_page(state, c, who, StatusCode::UNPROCESSABLE_ENTITY, Some(error)).await
}

/// The disclosure form as typed.
#[derive(Debug, Default)]
pub(crate) struct DisclosureFields {
    pub(crate) member: String,
    pub(crate) recipient: String,
    pub(crate) basis: String,
}

#[derive(Template)]
#[template(path = "console_disclose.html")]
pub(crate) struct DisclosePage<'a> {
    pub(crate) c: &'a Chrome,
    pub(crate) form: DisclosureFields,
    pub(crate) categories: Vec<&'static str>,
    pub(crate) error: Option<String>,
    pub(crate) entry: String,
    pub(crate) package: Option<String>,
}

#[handler]
pub(crate) async fn disclosures(ConsoleUser { c, .. }: ConsoleUser) -> Response {
    let page = DisclosePage {
        c: &c,
        form: DisclosureFields::default(),
        categories: category_names(),
        error: None,
        entry: String::new(),
        package: None,
    };
    html(StatusCode::OK, &c, page.render(), &[])
}

/// Decides a disclosure with the rules and, when allowed, shows the recipient's package.
#[handler]
pub(crate) async fn disclose(
    state: Data<&AppState>,
    OperatorForm { who, c, form }: OperatorForm<Vec<(String, String)>>,
) -> Response {
    use kikeru_domain::privacy::{ClaimedBasis, DisclosureRequest, Recipient, Transfer};
    let fields = Fields(form);
    let form = DisclosureFields {
        member: fields.one("member").trim().to_owned(),
        recipient: fields.one("recipient").trim().to_owned(),
        basis: fields.one("basis").trim().to_owned(),
    };
    let categories = fields.categories();
    let page = |status: StatusCode,
                form: DisclosureFields,
                error: Option<String>,
                entry: String,
                package: Option<String>| {
        let page = DisclosePage {
            c: &c,
            form,
            categories: category_names(),
            error,
            entry,
            package,
        };
        html(status, &c, page.render(), &[])
    };
    let parsed = (
        form.member.parse::<uuid::Uuid>().ok(),
        Recipient::parse(&form.recipient),
        ClaimedBasis::parse(&form.basis),
        categories.filter(|c| !c.is_empty()),
    );
    let (Some(member), Some(recipient), Some(basis), Some(categories)) = parsed else {
        let error = Some(c.t("console.disclosure_invalid").to_owned());
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            form,
            error,
            String::new(),
            None,
        );
    };
    let member = kikeru_domain::MemberId::from_uuid(member);
    let request = DisclosureRequest {
        member_id: member,
        recipient,
        categories,
        transfer: Transfer::Provision,
        basis,
        at: state.services.disclosures.now(),
    };
    match state
        .services
        .disclosures
        .disclose(&who.operator, request)
        .await
    {
        Ok((entry, package)) => {
            audit(
                &state,
                &who,
                "disclosure.made",
                &format!("ledger entry {} for member {member} (console)", entry.seq),
            )
            .await;
            let json = crate::privacy_api::package_json(&package);
            let summary = format!(
                "#{} {} → {} ({})",
                entry.seq,
                crate::site::when(entry.at),
                entry.recipient_details.name,
                entry.basis.to_text()
            );
            page(
                StatusCode::CREATED,
                form,
                None,
                summary,
                Some(format!("{json:#}")),
            )
        }
        Err(e) => {
            audit(
                &state,
                &who,
                "disclosure.refused",
                &format!("member {member}: {e} (console)"),
            )
            .await;
            let error = Some(match e {
                kikeru_domain::privacy::disclosure::DisclosureError::NotAdministrator => {
                    c.t("console.admin_required").to_owned()
                }
                e => format!("{}: {e}", c.t("console.refused")),
            });
            page(StatusCode::FORBIDDEN, form, error, String::new(), None)
        }
    }
}

#[handler]
pub(crate) async fn approve(
    state: Data<&AppState>,
    Path(id): Path<String>,
    OperatorForm { who, c, form: _ }: OperatorForm<CsrfOnly>,
) -> Page {
    match state
        .services
        .disclosures
        .approve_legal_order(&id, who.operator.id)
        .await
    {
        Ok(order) => {
            audit(
                &state,
                &who,
                "legal_order.approved",
                &format!(
                    "legal order {} now has {} approvals (console)",
                    order.id,
                    order.approved_by.len()
                ),
            )
            .await;
            Ok(see_other("/admin/legal-orders", &[]))
        }
        Err(kikeru_domain::StoreError::NotFound) => {
            Err(PageError::new(StatusCode::NOT_FOUND, c.lang))
        }
        Err(e) => Err(PageError::failed(c.lang, &e, "a console request failed")),
    }
}

#[derive(Template)]
#[template(path = "console_register.html")]
pub(crate) struct RegisterPage<'a> {
    pub(crate) c: &'a Chrome,
    pub(crate) processors: Vec<(String, String, String, String)>,
    /// Waiting for a second administrator: key, name, categories, proposer, when.
    pub(crate) proposals: Vec<(String, String, String, String, String)>,
    pub(crate) partners: Vec<(String, String, String, String)>,
    /// Per processor: key, country, contract date, sub-processors, last review and outcome,
    /// whether a review is due.
    pub(crate) supervision: Vec<(String, String, String, String, String, bool)>,
    pub(crate) error: Option<&'a str>,
}

pub(crate) fn items(categories: &kikeru_domain::privacy::Categories) -> String {
    categories
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) async fn register_page(
    state: &AppState,
    c: &Chrome,
    status: StatusCode,
    error: Option<&str>,
) -> Page {
    let read = async {
        Ok::<_, kikeru_domain::StoreError>((
            state.services.disclosures.processors().await?,
            state.services.disclosures.processor_proposals().await?,
            state.services.disclosures.partners().await?,
            state.services.disclosures.supervision().await?,
        ))
    };
    let (processors, proposals, partners, supervision) = read
        .await
        .or_page(c.lang, "the registers could not be read")?;
    let page = RegisterPage {
        c,
        processors: processors
            .iter()
            .map(|p| {
                (
                    p.key.clone(),
                    p.name.clone(),
                    p.purpose.clone(),
                    items(&p.categories),
                )
            })
            .collect(),
        proposals: proposals
            .iter()
            .map(|p| {
                (
                    p.processor.key.clone(),
                    p.processor.name.clone(),
                    items(&p.processor.categories),
                    p.proposed_by.to_string(),
                    crate::site::when(p.proposed_at),
                )
            })
            .collect(),
        partners: partners
            .iter()
            .map(|p| {
                (
                    p.key.clone(),
                    p.name.clone(),
                    p.address.clone(),
                    p.contact.clone(),
                )
            })
            .collect(),
        supervision: supervision
            .iter()
            .map(|(p, last, due)| match last {
                Some(s) => (
                    p.key.clone(),
                    s.country.clone(),
                    s.contract_date.to_string(),
                    s.sub_processors.clone(),
                    format!("{}: {}", s.reviewed_on, s.outcome),
                    *due,
                ),
                None => (
                    p.key.clone(),
                    String::new(),
                    String::new(),
                    String::new(),
                    c.t("console.never_reviewed").to_owned(),
                    *due,
                ),
            })
            .collect(),
        error,
    };
    Ok(html(status, c, page.render(), &[]))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct SupervisionForm {
    pub(crate) csrf: String,
    pub(crate) processor: String,
    pub(crate) contract_date: String,
    pub(crate) country: String,
    pub(crate) sub_processors: String,
    pub(crate) foreign_environment: String,
    pub(crate) reviewed_on: String,
    pub(crate) outcome: String,
}

/// `POST /admin/supervision`: an administrator records a review of a processor (委託先の監督).
#[handler]
pub(crate) async fn record_supervision(
    state: Data<&AppState>,
    OperatorForm { who, c, form }: OperatorForm<SupervisionForm>,
) -> Page {
    use kikeru_domain::privacy::disclosure::RegisterError;
    let day = |text: &str| {
        time::Date::parse(
            text.trim(),
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .ok()
    };
    let (Some(contract_date), Some(reviewed_on)) =
        (day(&form.contract_date), day(&form.reviewed_on))
    else {
        let error = Some(c.t("console.supervision_dates"));
        return register_page(&state, &c, StatusCode::UNPROCESSABLE_ENTITY, error).await;
    };
    let record = kikeru_domain::privacy::supervision::Supervision {
        id: uuid::Uuid::nil(),
        processor: form.processor.clone(),
        contract_date,
        country: form.country.trim().to_owned(),
        sub_processors: form.sub_processors.trim().to_owned(),
        foreign_environment: form.foreign_environment.trim().to_owned(),
        reviewed_on,
        outcome: form.outcome.trim().to_owned(),
        recorded_by: who.operator.id,
        recorded_at: state.services.requests.now(),
    };
    let (status, key) = match state
        .services
        .disclosures
        .record_supervision(&who.operator, record)
        .await
    {
        Ok(()) => {
            let detail = format!(
                "processor {} reviewed {reviewed_on} (console)",
                form.processor
            );
            audit(&state, &who, "processor.supervised", &detail).await;
            return Ok(see_other("/admin/register#supervision", &[]));
        }
        Err(RegisterError::NotAdministrator) => (StatusCode::FORBIDDEN, "console.admin_required"),
        Err(RegisterError::UnknownProcessor) => (StatusCode::NOT_FOUND, "console.no_processor"),
        Err(RegisterError::Supervision(problem)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            match problem {
                kikeru_domain::privacy::supervision::SupervisionProblem::Fields => {
                    "console.supervision_fields"
                }
                kikeru_domain::privacy::supervision::SupervisionProblem::ForeignEnvironment => {
                    "console.supervision_abroad"
                }
                kikeru_domain::privacy::supervision::SupervisionProblem::Dates => {
                    "console.supervision_dates"
                }
            },
        ),
        Err(e) => {
            return Err(PageError::failed(
                c.lang,
                &e,
                "a supervision record could not be kept",
            ));
        }
    };
    register_page(&state, &c, status, Some(c.t(key))).await
}

#[handler]
pub(crate) async fn register(state: Data<&AppState>, ConsoleUser { c, .. }: ConsoleUser) -> Page {
    register_page(&state, &c, StatusCode::OK, None).await
}

/// `POST /admin/processors/{key}/approve`: a second administrator puts a proposed change to
/// the processor register in force.
#[handler]
pub(crate) async fn approve_processor(
    state: Data<&AppState>,
    Path(key): Path<String>,
    OperatorForm { who, c, .. }: OperatorForm<CsrfOnly>,
) -> Page {
    use kikeru_domain::privacy::disclosure::RegisterError;
    let (status, message) = match state
        .services
        .disclosures
        .approve_processor(&who.operator, &key)
        .await
    {
        Ok(processor) => {
            audit(
                &state,
                &who,
                "processor.approved",
                &format!(
                    "processor {} entrusted with {} (console)",
                    processor.key,
                    items(&processor.categories)
                ),
            )
            .await;
            return Ok(see_other("/admin/register", &[]));
        }
        Err(RegisterError::NotAdministrator) => (StatusCode::FORBIDDEN, "console.admin_required"),
        Err(RegisterError::SameAdministrator) => (StatusCode::CONFLICT, "console.second_admin"),
        Err(RegisterError::NoProposal) => (StatusCode::NOT_FOUND, "console.no_proposal"),
        Err(RegisterError::UnknownProcessor | RegisterError::Supervision(_)) => {
            (StatusCode::NOT_FOUND, "console.no_proposal")
        }
        Err(RegisterError::Store(e)) => {
            return Err(PageError::failed(
                c.lang,
                &e,
                "the processor register could not be changed",
            ));
        }
    };
    register_page(&state, &c, status, Some(c.t(message))).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PartnerForm {
    pub(crate) csrf: String,
    pub(crate) key: String,
    pub(crate) name: String,
    pub(crate) address: String,
    pub(crate) representative: String,
    pub(crate) contact: String,
}

#[handler]
pub(crate) async fn save_partner(
    state: Data<&AppState>,
    OperatorForm { who, c, form }: OperatorForm<PartnerForm>,
) -> Page {
    let key_ok = !form.key.is_empty()
        && form.key.len() <= 64
        && form
            .key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let required = [&form.name, &form.address, &form.contact];
    if !key_ok || required.iter().any(|f| f.trim().is_empty()) {
        return register_page(
            &state,
            &c,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(c.t("console.partner_invalid")),
        )
        .await;
    }
    let partner = Partner {
        key: form.key.clone(),
        name: form.name.trim().to_owned(),
        address: form.address.trim().to_owned(),
        representative: Some(form.representative.trim().to_owned()).filter(|r| !r.is_empty()),
        contact: form.contact.trim().to_owned(),
    };
    if let Err(e) = state.services.disclosures.save_partner(&partner).await {
        return Err(PageError::failed(
            c.lang,
            &e,
            "a partner could not be saved",
        ));
    }
    audit(
        &state,
        &who,
        "partner.saved",
        &format!("partner {} ({}) (console)", partner.key, partner.name),
    )
    .await;
    Ok(see_other("/admin/register", &[]))
}
