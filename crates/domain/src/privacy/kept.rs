//! What deleting an account keeps, and why: the one written list that the privacy page, My
//! Page's deletion section, the deletion notice and the data export all state, and that the
//! deletion test holds the database to (every trace of a deleted member must sit in a record
//! this list names). Everything else about the member is erased at once.

use super::retention::{LEDGER_MINIMUM, RetentionPolicy};

const DAY: u64 = 86_400;

/// A kind of record kept after the member who it concerns deleted their account.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Kept {
    /// Orders, their lines and payments (with their history, refunds and disputes), under the
    /// member ID only: books the Corporation Tax Act (法人税法施行規則 第59条) requires.
    Accounting,
    /// The receipts (適格簡易請求書) and return invoices as issued — with the name a receipt
    /// was reissued to, if the member asked for one: copies the Consumption Tax Act (消費税法
    /// 第57条の4, 第30条) requires the issuer to keep.
    Receipts,
    /// The record of each provision of the member's data to a third party (date, recipient,
    /// member ID, items, basis): APPI 第29条 requires it for three years.
    ProvisionRecords,
    /// Legal orders naming the member ID, with their approvals: the basis of a provision the
    /// law ordered, kept as long as the record of that provision.
    LegalOrders,
    /// The operators' log, whose entries name the member ID when an operator acted on the
    /// account (a provision, a refund): the audit trail of those acts.
    OperatorLog,
    /// The deletion notice itself, to the address the account had, until it is delivered
    /// (delivery erases its address and text); a delivery given up leaves a record with the
    /// address, for the outbox's period.
    DeletionNotice,
}

/// How long a kept record stays, counted in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum Keeping {
    /// From the day after the filing deadline of the record's fiscal year.
    FilingDeadline {
        /// For this many days.
        days: u64,
    },
    /// From the day the record was made.
    Made {
        /// For this many days.
        days: u64,
    },
    /// From the day the mail was delivered (or given up).
    Delivered {
        /// For this many days.
        days: u64,
    },
}

impl Keeping {
    /// The number of days.
    pub const fn days(self) -> u64 {
        match self {
            Self::FilingDeadline { days } | Self::Made { days } | Self::Delivered { days } => days,
        }
    }
}

/// One line of the list: what is kept and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeptRecord {
    /// What.
    pub kept: Kept,
    /// For how long.
    pub keeping: Keeping,
}

impl Kept {
    /// Every kind, in the order the list shows them.
    pub const ALL: [Self; 6] = [
        Self::Accounting,
        Self::Receipts,
        Self::ProvisionRecords,
        Self::LegalOrders,
        Self::OperatorLog,
        Self::DeletionNotice,
    ];

    /// The stable key (`accounting`, `receipts`, …), as pages and messages name it.
    pub const fn key(self) -> &'static str {
        match self {
            Self::Accounting => "accounting",
            Self::Receipts => "receipts",
            Self::ProvisionRecords => "provision_records",
            Self::LegalOrders => "legal_orders",
            Self::OperatorLog => "operator_log",
            Self::DeletionNotice => "deletion_notice",
        }
    }

    /// Its name in Japanese, as every list of it begins (tests look for it).
    pub const fn title_ja(self) -> &'static str {
        match self {
            Self::Accounting => "購入・決済の記録",
            Self::Receipts => "発行済みの領収書・返品伝票",
            Self::ProvisionRecords => "第三者提供の記録",
            Self::LegalOrders => "法令に基づく開示の命令",
            Self::OperatorLog => "事務局の操作記録",
            Self::DeletionNotice => "退会完了のお知らせメール",
        }
    }

    /// Which of a member's values the record may still hold: `member ID` for all but the
    /// notice; the receipts also the name they were reissued to; the notice the address.
    pub fn may_hold(self, value: &str) -> bool {
        match self {
            Self::Receipts => matches!(value, "member ID" | "addressee"),
            Self::DeletionNotice => value == "address",
            _ => value == "member ID",
        }
    }

    /// How long it is kept under `policy`.
    pub fn keeping(self, policy: &RetentionPolicy) -> Keeping {
        let days = |d: std::time::Duration| d.as_secs() / DAY;
        match self {
            Self::Accounting | Self::Receipts => Keeping::FilingDeadline {
                days: days(policy.accounting_records),
            },
            Self::ProvisionRecords | Self::LegalOrders => Keeping::Made {
                days: days(policy.ledger.max(LEDGER_MINIMUM)),
            },
            Self::OperatorLog => Keeping::Made {
                days: days(policy.operator_log.max(LEDGER_MINIMUM)),
            },
            Self::DeletionNotice => Keeping::Delivered {
                days: days(policy.settled_mail),
            },
        }
    }
}

/// The whole list under `policy`.
pub fn kept_after_deletion(policy: &RetentionPolicy) -> Vec<KeptRecord> {
    Kept::ALL
        .into_iter()
        .map(|kept| KeptRecord {
            kept,
            keeping: kept.keeping(policy),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_takes_its_periods_from_the_configuration_and_never_cuts_the_legal_minimum() {
        let policy = RetentionPolicy {
            ledger: std::time::Duration::from_secs(DAY),
            accounting_records: std::time::Duration::from_secs(10 * 365 * DAY),
            ..RetentionPolicy::default()
        };
        let list = kept_after_deletion(&policy);
        assert_eq!(list.len(), Kept::ALL.len());
        assert_eq!(list[0].keeping, Keeping::FilingDeadline { days: 3650 });
        assert_eq!(list[2].keeping, Keeping::Made { days: 1095 });
        assert_eq!(list[5].keeping, Keeping::Delivered { days: 30 });
        assert!(Kept::Receipts.may_hold("addressee") && !Kept::Accounting.may_hold("addressee"));
    }
}
