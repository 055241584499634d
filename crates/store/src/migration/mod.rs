//! Schema migrations, applied in order by `kikeru migrate` and at start.

use sea_orm_migration::prelude::*;

mod m0001_membership;
mod m0002_shop;

/// Every migration of the store.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_membership::Migration),
            Box::new(m0002_shop::Migration),
        ]
    }
}
