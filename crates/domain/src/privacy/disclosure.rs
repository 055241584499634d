//! Disclosures of personal data to third parties: decided by [`crate::privacy::decide`],
//! performed only when allowed — with only the allowed categories in the package — and recorded
//! in the ledger the member sees. A refusal produces nothing.

use std::sync::Arc;

use crate::kernel::ports::{Clock, Random};
use crate::membership::ports::Members;
use crate::office::operators::{Operator, OperatorId, Role};
use crate::privacy::ports::Consents;
use crate::privacy::ports::{Ledger, LegalOrders, Partners, Processors};
use crate::privacy::{
    Basis, Categories, DataCategory, Denial, DisclosureRequest, LedgerDraft, LedgerEntry,
    LegalOrder, Partner, Processor, ProcessorProposal, Registers, decide, first_broken,
    recipient_details,
};
use crate::shop::ports::Orders;
use crate::{MemberId, Payment, Purchase, StoreError, Timestamp};

/// The adapters disclosures run on.
#[derive(Clone)]
pub struct DisclosurePorts {
    /// The ledger.
    pub ledger: Arc<dyn Ledger>,
    /// Purposes and consents.
    pub consents: Arc<dyn Consents>,
    /// Members (for the data).
    pub members: Arc<dyn Members>,
    /// Orders (for purchase and payment history).
    pub orders: Arc<dyn Orders>,
    /// Recorded legal orders.
    pub legal_orders: Arc<dyn LegalOrders>,
    /// The register of entrusted processors.
    pub processors: Arc<dyn Processors>,
    /// The register of partners.
    pub partners: Arc<dyn Partners>,
    /// The cessations members asked for.
    pub requests: Arc<dyn crate::privacy::ports::PrivacyRequests>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Randomness (the IDs of legal orders).
    pub random: Arc<dyn Random>,
}

impl std::fmt::Debug for DisclosurePorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DisclosurePorts { .. }")
    }
}

/// What a recipient receives: only the categories the decision allowed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Package {
    /// The member ID, when allowed.
    pub member_id: Option<MemberId>,
    /// The address, when allowed.
    pub email: Option<String>,
    /// The display name, when allowed.
    pub display_name: Option<String>,
    /// The purchase history, when allowed.
    pub purchases: Option<Vec<Purchase>>,
    /// The payment history, when allowed.
    pub payments: Option<Vec<Payment>>,
}

/// A disclosure was not made.
#[derive(Debug, thiserror::Error)]
pub enum DisclosureError {
    /// The rules refused it; nothing was produced.
    #[error("the disclosure is not allowed: {0}")]
    Denied(#[from] Denial),
    /// No such member.
    #[error("there is no such member")]
    UnknownMember,
    /// Only an administrator discloses data.
    #[error("only an administrator may disclose a member's data")]
    NotAdministrator,
    /// A category the service cannot package for a recipient.
    #[error("{0} cannot be exported")]
    NotExportable(&'static str),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A change to the processor register was not made.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// Only an administrator changes the register.
    #[error("only an administrator may change the processor register")]
    NotAdministrator,
    /// The proposal was made by this administrator: another must approve it.
    #[error("a second administrator must approve this change")]
    SameAdministrator,
    /// No change is waiting for approval for this key (or it was replaced meanwhile).
    #[error("no change is waiting for approval for this processor")]
    NoProposal,
    /// A supervision record names no processor of the register.
    #[error("there is no such processor in the register")]
    UnknownProcessor,
    /// A supervision record's fields are not acceptable.
    #[error(transparent)]
    Supervision(#[from] crate::privacy::supervision::SupervisionProblem),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What saving a processor did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterChange {
    /// In force at once: nothing more leaves than before (a narrowing, a new name or purpose).
    Saved(Processor),
    /// A new processor, or more categories for one: waiting for a second administrator.
    Proposed(ProcessorProposal),
}

/// The ledger does not verify.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The chain breaks at this entry.
    #[error("the ledger is broken at entry {0}")]
    Broken(u64),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The disclosure use cases.
#[derive(Debug, Clone)]
pub struct DisclosureDesk {
    ports: DisclosurePorts,
}

impl DisclosureDesk {
    /// Builds the use cases on their adapters.
    pub fn new(ports: DisclosurePorts) -> Self {
        Self { ports }
    }

    /// The register of entrusted processors.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn processors(&self) -> Result<Vec<Processor>, StoreError> {
        self.ports.processors.all().await
    }

    /// Records a review of a processor (委託先の監督): an administrator's action. The time and
    /// the administrator are set here.
    ///
    /// # Errors
    /// [`RegisterError::NotAdministrator`], [`RegisterError::UnknownProcessor`],
    /// [`RegisterError::Supervision`] for unacceptable fields.
    pub async fn record_supervision(
        &self,
        by: &Operator,
        mut record: crate::privacy::supervision::Supervision,
    ) -> Result<(), RegisterError> {
        if by.role < Role::Admin {
            return Err(RegisterError::NotAdministrator);
        }
        let now = self.ports.clock.now();
        record.check(now.to_offset(time::macros::offset!(+9)).date())?;
        if !self
            .ports
            .processors
            .all()
            .await?
            .iter()
            .any(|p| p.key == record.processor)
        {
            return Err(RegisterError::UnknownProcessor);
        }
        record.id = crate::kernel::ids::uuid_v7(now, &self.ports.random.bytes32());
        record.recorded_by = by.id;
        record.recorded_at = now;
        Ok(self.ports.processors.record_supervision(&record).await?)
    }

    /// Each processor of the register with its latest supervision record and whether a
    /// review is due (none yet, or the last more than a year ago, in Japan's calendar).
    ///
    /// # Errors
    /// When storage fails.
    pub async fn supervision(
        &self,
    ) -> Result<
        Vec<(
            Processor,
            Option<crate::privacy::supervision::Supervision>,
            bool,
        )>,
        StoreError,
    > {
        use crate::privacy::supervision::{latest, review_due};
        let records = self.ports.processors.supervisions().await?;
        let today = self
            .ports
            .clock
            .now()
            .to_offset(time::macros::offset!(+9))
            .date();
        Ok(self
            .ports
            .processors
            .all()
            .await?
            .into_iter()
            .map(|p| {
                let last = latest(&records, &p.key).cloned();
                let due = review_due(last.as_ref().map(|s| s.reviewed_on), today);
                (p, last, due)
            })
            .collect())
    }

    /// Adds a processor to the register, or changes one: an administrator's action. A change
    /// that lets nothing more leave (fewer categories, another name or purpose) is in force at
    /// once; a new processor, or more categories for one, waits for a second administrator
    /// ([`DisclosureDesk::approve_processor`]), like a legal order — until then the engine
    /// knows only the entry in force.
    ///
    /// # Errors
    /// [`RegisterError::NotAdministrator`]; [`RegisterError::Store`].
    pub async fn save_processor(
        &self,
        by: &Operator,
        processor: Processor,
    ) -> Result<RegisterChange, RegisterError> {
        if by.role < Role::Admin {
            return Err(RegisterError::NotAdministrator);
        }
        let current = self
            .ports
            .processors
            .all()
            .await?
            .into_iter()
            .find(|p| p.key == processor.key);
        let widens = current
            .as_ref()
            .is_none_or(|c| !processor.categories.is_subset(&c.categories));
        if widens {
            let proposal = ProcessorProposal {
                processor,
                proposed_by: by.id,
                proposed_at: self.ports.clock.now(),
            };
            self.ports.processors.propose(&proposal).await?;
            return Ok(RegisterChange::Proposed(proposal));
        }
        self.ports.processors.save(&processor).await?;
        Ok(RegisterChange::Saved(processor))
    }

    /// The changes to the register waiting for a second administrator.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn processor_proposals(&self) -> Result<Vec<ProcessorProposal>, StoreError> {
        self.ports.processors.proposals().await
    }

    /// A second administrator approves the pending change for `key`: it is in force from now.
    ///
    /// # Errors
    /// [`RegisterError::NotAdministrator`]; [`RegisterError::SameAdministrator`] for the
    /// proposer; [`RegisterError::NoProposal`].
    pub async fn approve_processor(
        &self,
        by: &Operator,
        key: &str,
    ) -> Result<Processor, RegisterError> {
        if by.role < Role::Admin {
            return Err(RegisterError::NotAdministrator);
        }
        let proposal = self
            .ports
            .processors
            .proposals()
            .await?
            .into_iter()
            .find(|p| p.processor.key == key)
            .ok_or(RegisterError::NoProposal)?;
        if proposal.proposed_by == by.id {
            return Err(RegisterError::SameAdministrator);
        }
        match self.ports.processors.adopt(&proposal).await {
            Ok(()) => Ok(proposal.processor),
            Err(StoreError::NotFound) => Err(RegisterError::NoProposal),
            Err(e) => Err(e.into()),
        }
    }

    /// The register of partners.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn partners(&self) -> Result<Vec<Partner>, StoreError> {
        self.ports.partners.all().await
    }

    /// Adds or replaces a partner.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn save_partner(&self, partner: &Partner) -> Result<(), StoreError> {
        self.ports.partners.save(partner).await
    }

    /// Decides a disclosure at the current time and, when allowed, packages exactly the allowed
    /// categories and records it in the ledger. Only an administrator asks.
    ///
    /// # Errors
    /// [`DisclosureError::NotAdministrator`]; [`DisclosureError::Denied`] with the reason;
    /// nothing is produced or recorded then.
    pub async fn disclose(
        &self,
        by: &Operator,
        mut request: DisclosureRequest,
    ) -> Result<(LedgerEntry, Package), DisclosureError> {
        if by.role < Role::Admin {
            return Err(DisclosureError::NotAdministrator);
        }
        request.at = self.ports.clock.now();
        let member = self
            .ports
            .members
            .by_id(request.member_id)
            .await?
            .ok_or(DisclosureError::UnknownMember)?;
        let purposes = self.ports.consents.purposes().await?;
        let consents = self.ports.consents.history(request.member_id).await?;
        let legal_orders = self.ports.legal_orders.all().await?;
        let processors = self.ports.processors.all().await?;
        let partners = self.ports.partners.all().await?;
        let stops = self.ports.requests.stops_of(request.member_id).await?;
        let registers = Registers {
            processors: &processors,
            partners: &partners,
            purposes: &purposes,
            consents: &consents,
            legal_orders: &legal_orders,
            stops: &stops,
        };
        let basis = decide(&request, &registers)?;
        // A legal order may withhold the member's notice until a date.
        let visible_from = match &basis {
            Basis::LegalOrder(id) => legal_orders
                .iter()
                .find(|o| o.id == *id)
                .and_then(|o| o.notice_withheld_until)
                .map_or(request.at, |until| until.max(request.at)),
            _ => request.at,
        };
        let package = self.package(&member, &request.categories).await?;
        let draft = LedgerDraft {
            at: request.at,
            member_id: request.member_id,
            recipient_details: recipient_details(&request.recipient, &registers),
            recipient: request.recipient,
            categories: request.categories,
            basis,
            visible_from,
        };
        let entry = self.ports.ledger.append(draft).await?;
        Ok((entry, package))
    }

    async fn package(
        &self,
        member: &crate::Member,
        categories: &Categories,
    ) -> Result<Package, DisclosureError> {
        let mut package = Package::default();
        for category in categories {
            match category {
                DataCategory::MemberId => package.member_id = Some(member.id),
                DataCategory::EmailAddress => {
                    package.email = Some(member.email.as_str().to_owned())
                }
                DataCategory::DisplayName => {
                    package.display_name = Some(member.display_name.as_str().to_owned())
                }
                DataCategory::PurchaseHistory => {
                    package.purchases = Some(
                        self.ports
                            .orders
                            .purchases(member.id, None, u32::MAX)
                            .await?,
                    )
                }
                DataCategory::PaymentHistory => {
                    package.payments = Some(
                        self.ports
                            .orders
                            .payments(member.id, None, u32::MAX)
                            .await?,
                    )
                }
                other @ (DataCategory::OrderDetails | DataCategory::MessageContent) => {
                    return Err(DisclosureError::NotExportable(other.as_str()));
                }
            }
        }
        Ok(package)
    }

    /// Records a legal order as an operator entered it, once [`LegalOrderDraft::check`] accepts
    /// it; the order gets its ID here (`LO-` and a UUIDv7 from the clock and random ports) and
    /// the recording operator is its first approver.
    ///
    /// # Errors
    /// [`LegalOrderError::Invalid`] naming what is wrong; [`LegalOrderError::Store`] when
    /// storage fails.
    pub async fn record_legal_order(
        &self,
        draft: LegalOrderDraft,
        operator: OperatorId,
    ) -> Result<LegalOrder, LegalOrderError> {
        let id = crate::kernel::ids::uuid_v7(self.ports.clock.now(), &self.ports.random.bytes32());
        let order = draft.check(&format!("LO-{}", id.simple()), operator)?;
        self.ports.legal_orders.record(&order).await?;
        Ok(order)
    }

    /// Adds an operator's approval; a second, distinct operator makes the order effective.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown order.
    pub async fn approve_legal_order(
        &self,
        id: &str,
        operator: OperatorId,
    ) -> Result<LegalOrder, StoreError> {
        self.ports.legal_orders.approve(id, operator).await
    }

    /// Every recorded legal order.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn legal_orders(&self) -> Result<Vec<LegalOrder>, StoreError> {
        self.ports.legal_orders.all().await
    }

    /// The disclosures of the member's data that the member may see now, oldest first.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn about(&self, member: MemberId) -> Result<Vec<LedgerEntry>, StoreError> {
        self.ports
            .ledger
            .for_member(member, self.ports.clock.now())
            .await
    }

    /// Checks the whole chain; returns how many entries it holds.
    ///
    /// # Errors
    /// [`LedgerError::Broken`] naming the first broken entry.
    pub async fn verify(&self) -> Result<usize, LedgerError> {
        let entries = self.ports.ledger.all().await?;
        match first_broken(&entries) {
            Some(seq) => Err(LedgerError::Broken(seq)),
            None => Ok(entries.len()),
        }
    }

    /// The current time (for building requests at the edge).
    pub fn now(&self) -> Timestamp {
        self.ports.clock.now()
    }
}

/// The longest authority, reference or legal basis, in characters.
pub const LEGAL_ORDER_TEXT_MAX: usize = 300;

/// The most members one legal order may name.
pub const LEGAL_ORDER_MEMBERS_MAX: usize = 1000;

/// A legal order as an operator entered it (over the API or in the console), not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalOrderDraft {
    /// The authority that issued it.
    pub authority: String,
    /// The authority's reference.
    pub reference: String,
    /// The legal basis cited.
    pub legal_basis: String,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// The members it concerns.
    pub members: std::collections::BTreeSet<MemberId>,
    /// The categories it orders disclosed.
    pub categories: Categories,
    /// The members are shown the ledger entry only from this time (when the order says so).
    pub notice_withheld_until: Option<Timestamp>,
}

/// What is wrong with a [`LegalOrderDraft`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LegalOrderProblem {
    /// The authority is blank or longer than [`LEGAL_ORDER_TEXT_MAX`] characters.
    #[error("the authority must be 1 to 300 characters")]
    Authority,
    /// The reference is blank or too long.
    #[error("the reference must be 1 to 300 characters")]
    Reference,
    /// The legal basis is blank or too long.
    #[error("the legal basis must be 1 to 300 characters")]
    LegalBasis,
    /// No member, or more than [`LEGAL_ORDER_MEMBERS_MAX`].
    #[error("a legal order names 1 to 1000 members")]
    Members,
    /// No category.
    #[error("a legal order names at least one category of data")]
    Categories,
}

/// Recording a legal order failed.
#[derive(Debug, thiserror::Error)]
pub enum LegalOrderError {
    /// The order as entered breaks a rule; nothing was recorded.
    #[error(transparent)]
    Invalid(#[from] LegalOrderProblem),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl LegalOrderDraft {
    /// The order with `id`, first approved by `operator`, when every rule holds: texts trimmed,
    /// 1 to [`LEGAL_ORDER_TEXT_MAX`] characters; 1 to [`LEGAL_ORDER_MEMBERS_MAX`] members; at
    /// least one category.
    ///
    /// # Errors
    /// The first [`LegalOrderProblem`] found.
    pub fn check(self, id: &str, operator: OperatorId) -> Result<LegalOrder, LegalOrderProblem> {
        fn text(value: &str, problem: LegalOrderProblem) -> Result<String, LegalOrderProblem> {
            let value = value.trim();
            if value.is_empty() || value.chars().count() > LEGAL_ORDER_TEXT_MAX {
                Err(problem)
            } else {
                Ok(value.to_owned())
            }
        }
        let authority = text(&self.authority, LegalOrderProblem::Authority)?;
        let reference = text(&self.reference, LegalOrderProblem::Reference)?;
        let legal_basis = text(&self.legal_basis, LegalOrderProblem::LegalBasis)?;
        if self.members.is_empty() || self.members.len() > LEGAL_ORDER_MEMBERS_MAX {
            return Err(LegalOrderProblem::Members);
        }
        if self.categories.is_empty() {
            return Err(LegalOrderProblem::Categories);
        }
        Ok(LegalOrder {
            id: id.to_owned(),
            authority,
            reference,
            legal_basis,
            issued_at: self.issued_at,
            members: self.members,
            categories: self.categories,
            approved_by: [operator].into_iter().collect(),
            notice_withheld_until: self.notice_withheld_until,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::privacy::DataCategory;
    use uuid::Uuid;

    fn draft() -> LegalOrderDraft {
        LegalOrderDraft {
            authority: "  Tokyo District Court ".to_owned(),
            reference: "令和8年(モ)第123号".to_owned(),
            legal_basis: "CCP Art. 223".to_owned(),
            issued_at: time::macros::datetime!(2026-03-01 0:00 UTC),
            members: [MemberId::from_uuid(Uuid::nil())].into_iter().collect(),
            categories: [DataCategory::EmailAddress].into_iter().collect(),
            notice_withheld_until: None,
        }
    }

    fn operator() -> OperatorId {
        OperatorId::from_uuid(Uuid::from_u128(7))
    }

    #[test]
    fn a_complete_order_is_trimmed_and_first_approved_by_its_recorder() {
        let order = draft().check("LO-1", operator()).unwrap();
        assert_eq!(order.id, "LO-1");
        assert_eq!(order.authority, "Tokyo District Court");
        assert_eq!(order.approved_by.len(), 1);
        assert!(order.approved_by.contains(&operator()));
    }

    #[test]
    fn every_rule_of_a_legal_order_is_checked_here_for_the_api_and_the_console_alike() {
        type Edit = fn(&mut LegalOrderDraft);
        let cases: [(Edit, LegalOrderProblem); 6] = [
            (
                |d| d.authority = " \t ".to_owned(),
                LegalOrderProblem::Authority,
            ),
            (
                |d| d.reference = "x".repeat(301),
                LegalOrderProblem::Reference,
            ),
            (
                |d| d.legal_basis = String::new(),
                LegalOrderProblem::LegalBasis,
            ),
            (|d| d.members.clear(), LegalOrderProblem::Members),
            (
                |d| {
                    d.members = (0..=1000u128)
                        .map(|n| MemberId::from_uuid(Uuid::from_u128(n)))
                        .collect();
                },
                LegalOrderProblem::Members,
            ),
            (|d| d.categories.clear(), LegalOrderProblem::Categories),
        ];
        for (change, problem) in cases {
            let mut d = draft();
            change(&mut d);
            assert_eq!(d.check("LO-1", operator()), Err(problem));
        }
        // 300 characters is the limit in characters, not bytes (the console counted bytes).
        let mut long_japanese = draft();
        long_japanese.authority = "裁".repeat(300);
        assert!(long_japanese.check("LO-1", operator()).is_ok());
    }
}
