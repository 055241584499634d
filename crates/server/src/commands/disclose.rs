//! `kikeru disclose`: a disclosure to a third party from the command line, decided by the same engine as the console, recorded in the ledger, audited.

use anyhow::Context;
use kikeru_domain::privacy::DataCategory;

use crate::cli::DiscloseArgs;
use crate::config::Config;
use crate::wiring::prepare;

/// Discloses as `args` say, or refuses and says why.
///
/// # Errors
/// Any failure, with context.
pub(crate) async fn run(config: &Config, args: DiscloseArgs) -> anyhow::Result<()> {
    let DiscloseArgs {
        member,
        recipient,
        categories,
        basis,
        transfer,
        out,
        operator,
    } = args;
    use kikeru_domain::privacy::{ClaimedBasis, DisclosureRequest, Recipient, Transfer};
    let operator_email =
        kikeru_domain::Email::parse(&operator).map_err(|e| anyhow::anyhow!("--operator: {e}"))?;
    let recipient = Recipient::parse(&recipient).ok_or_else(|| {
        anyhow::anyhow!("--recipient: use partner:KEY, processor:KEY or authority:NAME")
    })?;
    let categories = categories
        .split(',')
        .map(|c| {
            DataCategory::from_name(c.trim())
                .ok_or_else(|| anyhow::anyhow!("--categories: unknown category {c:?}"))
        })
        .collect::<anyhow::Result<_>>()?;
    let transfer = Transfer::from_name(&transfer)
        .ok_or_else(|| anyhow::anyhow!("--transfer: use provision, sale, rental or exchange"))?;
    let basis = ClaimedBasis::parse(&basis).ok_or_else(|| {
        anyhow::anyhow!("--basis: use entrustment, consent:PURPOSE or legal_order:ID")
    })?;
    let (_, state) = prepare(config).await?;
    let operator = state
        .services
        .office
        .operator_by_email(&operator_email)
        .await
        .context("reading the operator")?
        .ok_or_else(|| anyhow::anyhow!("--operator: no operator has this address"))?;
    let member = kikeru_domain::MemberId::from_uuid(member);
    let request = DisclosureRequest {
        member_id: member,
        recipient,
        categories,
        transfer,
        basis,
        at: state.services.disclosures.now(),
    };
    match state
        .services
        .disclosures
        .disclose(&operator, request)
        .await
    {
        Ok((entry, package)) => {
            let json = kikeru_http::package_json(&package);
            std::fs::write(&out, format!("{json:#}\n"))
                .with_context(|| format!("writing {}", out.display()))?;
            let detail = format!(
                "ledger entry {} for member {member} (command line)",
                entry.seq
            );
            state
                .services
                .office
                .audit(Some(operator.id), "disclosure.made", &detail)
                .await
                .context("auditing the disclosure")?;
            tracing::info!(seq = entry.seq, file = %out.display(), "disclosed");
            Ok(())
        }
        Err(e) => {
            let detail = format!("member {member}: {e} (command line)");
            state
                .services
                .office
                .audit(Some(operator.id), "disclosure.refused", &detail)
                .await
                .context("auditing the refusal")?;
            Err(anyhow::Error::new(e).context("nothing was disclosed"))
        }
    }
}
