//! `kikeru order refund ORDER_ID`: a refund at the provider, audited.

use anyhow::Context;
use kikeru_domain::OrderId;

use crate::config::Config;
use crate::wiring::prepare;

/// Refunds the order.
///
/// # Errors
/// Any failure, with context.
pub(crate) async fn refund(config: &Config, order_id: uuid::Uuid) -> anyhow::Result<()> {
    let (_, state) = prepare(config).await?;
    let outcome = state
        .services
        .shop
        .refund(OrderId::from_uuid(order_id))
        .await
        .context("refunding the order")?;
    state
        .services
        .office
        .audit(
            None,
            "order.refunded",
            &format!("order {order_id} (command line)"),
        )
        .await
        .context("auditing the refund")?;
    tracing::info!(?outcome, "order refunded");
    Ok(())
}
