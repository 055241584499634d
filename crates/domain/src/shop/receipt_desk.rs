//! The receipt desk: issues the receipts and return invoices that are due, in the order the
//! orders were paid and refunded, each numbered in the transaction that stores it.

use crate::MemberId;
use crate::kernel::errors::StoreError;
use crate::kernel::ports::Clock;
use crate::shop::ports::Receipts;
use crate::shop::receipt::{
    Receipt, RecipientError, ReturnInvoice, draft, recipient_name, return_of,
};
use crate::shop::tax::TaxRules;
use std::sync::Arc;

/// What the receipt desk runs on.
#[derive(Clone)]
pub struct ReceiptPorts {
    /// Receipt storage.
    pub receipts: Arc<dyn Receipts>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ReceiptPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReceiptPorts { .. }")
    }
}

/// Issuing receipts and showing them to their members.
#[derive(Clone)]
pub struct ReceiptDesk {
    ports: ReceiptPorts,
    rules: TaxRules,
    issuer: crate::shop::legal::Seller,
}

impl std::fmt::Debug for ReceiptDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiptDesk").finish_non_exhaustive()
    }
}

impl ReceiptDesk {
    /// How many paid orders wait for their receipt, counted up to `limit`.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn pending(&self, limit: u32) -> Result<usize, StoreError> {
        Ok(self.ports.receipts.unreceipted(limit).await?.len())
    }

    /// A desk issuing as `issuer` under `rules`.
    pub fn new(ports: ReceiptPorts, rules: TaxRules, issuer: crate::shop::legal::Seller) -> Self {
        Self {
            ports,
            rules,
            issuer,
        }
    }

    /// Issues the receipts of paid orders that have none, earliest paid first, then the return
    /// invoices of refunded orders that have none, at most `limit` of each; returns how many
    /// documents were issued. An order another node issued meanwhile is skipped.
    ///
    /// # Errors
    /// When storage fails (what was issued stays issued).
    pub async fn issue_due(&self, limit: u32) -> Result<u32, StoreError> {
        let receipts = self.issue_receipts(limit).await?;
        // A refund's return invoice follows its receipt: an order refunded before its receipt
        // was issued gets both, in this order, in one run.
        let mut returns = 0;
        for due in self.ports.receipts.unreturned(limit).await? {
            let content = return_of(&due, &self.rules, self.ports.clock.now());
            match self.ports.receipts.issue_return(&content).await {
                Ok(_) => returns += 1,
                Err(StoreError::Conflict) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(receipts + returns)
    }

    async fn issue_receipts(&self, limit: u32) -> Result<u32, StoreError> {
        let mut issued = 0;
        for order in self.ports.receipts.unreceipted(limit).await? {
            // An order paid on a day no configured rate covers waits until the rates are
            // configured; it is tried again on the next run.
            let Ok(content) = draft(&order, &self.rules, &self.issuer, self.ports.clock.now())
            else {
                continue;
            };
            match self.ports.receipts.issue(&content).await {
                Ok(_) => issued += 1,
                Err(StoreError::Conflict) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(issued)
    }

    /// The member's receipts, newest first.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn of_member(&self, member: MemberId) -> Result<Vec<Receipt>, StoreError> {
        self.ports.receipts.for_member(member).await
    }

    /// The receipt with this number, for the office (an accounting record: it names only the
    /// member ID).
    ///
    /// # Errors
    /// When storage fails.
    pub async fn by_number(&self, number: u64) -> Result<Option<Receipt>, StoreError> {
        self.ports.receipts.by_number(number).await
    }

    /// Reissues the member's receipt addressed to `name` (宛名): a full qualified invoice,
    /// marked 再発行.
    ///
    /// # Errors
    /// [`RecipientError`].
    pub async fn reissue_to(
        &self,
        member: MemberId,
        number: u64,
        name: &str,
    ) -> Result<Receipt, RecipientError> {
        let name = recipient_name(name).ok_or(RecipientError::BadName)?;
        match self.ports.receipts.reissue(number, member, &name).await {
            Ok(receipt) => Ok(receipt),
            Err(StoreError::NotFound) => Err(RecipientError::NotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// The member's return invoices, newest first.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn returns_of_member(
        &self,
        member: MemberId,
    ) -> Result<Vec<ReturnInvoice>, StoreError> {
        self.ports.receipts.returns_for_member(member).await
    }

    /// The return invoice with this number, for the office.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn return_by_number(&self, number: u64) -> Result<Option<ReturnInvoice>, StoreError> {
        self.ports.receipts.return_by_number(number).await
    }

    /// The member's return invoice with this number; `None` for another member's or none.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn member_return_numbered(
        &self,
        member: MemberId,
        number: u64,
    ) -> Result<Option<ReturnInvoice>, StoreError> {
        Ok(self
            .ports
            .receipts
            .return_by_number(number)
            .await?
            .filter(|r| r.content.member_id == member))
    }

    /// The member's receipt with this number; `None` for another member's or none.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn of_member_numbered(
        &self,
        member: MemberId,
        number: u64,
    ) -> Result<Option<Receipt>, StoreError> {
        Ok(self
            .ports
            .receipts
            .by_number(number)
            .await?
            .filter(|r| r.content.member_id == member))
    }
}
