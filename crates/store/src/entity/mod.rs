//! Private sea-orm entities, one module per table. Times are Unix milliseconds (UTC).
#![allow(
    unreachable_pub,
    reason = "sea-orm's derives need `pub` items; the module itself is private"
)]

pub(crate) mod consent_record;
pub(crate) mod incident;
pub(crate) mod inquiry;
pub(crate) mod inquiry_answer;
pub(crate) mod ledger_entry;
pub(crate) mod legal_order;
pub(crate) mod legal_order_approval;
pub(crate) mod member;
pub(crate) mod operator;
pub(crate) mod operator_event;
pub(crate) mod operator_session;
pub(crate) mod order;
pub(crate) mod order_line;
pub(crate) mod outbox_mail;
pub(crate) mod partner;
pub(crate) mod passkey;
pub(crate) mod payment;
pub(crate) mod payment_case;
pub(crate) mod payment_change;
pub(crate) mod payment_event;
pub(crate) mod policy_version;
pub(crate) mod privacy_request;
pub(crate) mod processing_stop;
pub(crate) mod processor;
pub(crate) mod processor_proposal;
pub(crate) mod processor_supervision;
pub(crate) mod product;
pub(crate) mod purpose;
pub(crate) mod rate_limit;
pub(crate) mod receipt;
pub(crate) mod receipt_sequence;
pub(crate) mod recovery_code;
pub(crate) mod return_invoice;
pub(crate) mod security_event;
pub(crate) mod session;
pub(crate) mod token;
pub(crate) mod totp_enrolment;
