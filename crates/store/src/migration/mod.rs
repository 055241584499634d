//! Schema migrations, applied in order by `kikeru migrate` and at start.

use sea_orm_migration::prelude::*;

mod m0001_membership;
mod m0002_shop;
mod m0003_operators;
mod m0004_consents;
mod m0005_ledger;
mod m0006_legal_orders;
mod m0007_processors;
mod m0008_partners;
mod m0009_mail;
mod m0010_stats;
mod m0011_outbox_order;
mod m0012_second_factors;
mod m0013_passkeys;
mod m0014_receipts;
mod m0015_return_invoices;
mod m0016_incidents;
mod m0017_order_taxes;
mod m0018_passkey_backup;
mod m0019_processor_proposals;
mod m0020_payment_cases;
mod m0021_return_invoices_per_case;
mod m0022_product_search;
mod m0023_collections;
mod m0024_requests;
mod m0025_supervision;
mod m0026_policy_versions;

/// Every migration of the store.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_membership::Migration),
            Box::new(m0002_shop::Migration),
            Box::new(m0003_operators::Migration),
            Box::new(m0004_consents::Migration),
            Box::new(m0005_ledger::Migration),
            Box::new(m0006_legal_orders::Migration),
            Box::new(m0007_processors::Migration),
            Box::new(m0008_partners::Migration),
            Box::new(m0009_mail::Migration),
            Box::new(m0010_stats::Migration),
            Box::new(m0011_outbox_order::Migration),
            Box::new(m0012_second_factors::Migration),
            Box::new(m0013_passkeys::Migration),
            Box::new(m0014_receipts::Migration),
            Box::new(m0015_return_invoices::Migration),
            Box::new(m0016_incidents::Migration),
            Box::new(m0017_order_taxes::Migration),
            Box::new(m0018_passkey_backup::Migration),
            Box::new(m0019_processor_proposals::Migration),
            Box::new(m0020_payment_cases::Migration),
            Box::new(m0021_return_invoices_per_case::Migration),
            Box::new(m0022_product_search::Migration),
            Box::new(m0023_collections::Migration),
            Box::new(m0024_requests::Migration),
            Box::new(m0025_supervision::Migration),
            Box::new(m0026_policy_versions::Migration),
        ]
    }
}
