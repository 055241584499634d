//! Conformance suites for the storage ports of `kikeru-domain`.
//!
//! Each case is a plain `pub async fn` taking the port as a trait object, one per MUST sentence
//! of the port's documentation. [`storage_contract_tests!`] turns every case into its own named
//! `#[tokio::test]` for an adapter, so an adapter's `tests/contract.rs` is one line per backend:
//!
//! ```ignore
//! async fn setup() -> Option<Box<MyStore>> { /* a fresh, empty store */ }
//! async fn teardown(_store: Box<MyStore>) {}
//! kikeru_contract::storage_contract_tests!(setup, teardown);
//! ```
//!
//! The store returned by `setup` must dereference to a type implementing every storage port
//! (`Members`, `Sessions`, `SecondFactors`, `Tokens`, `AuditLog`, `RateLimits`, `Catalog`, `Orders`,
//! `Operators`, `Consents`, `Ledger`, `Erasure`,
//! `LegalOrders`, `Retention`, `Processors`, `Partners`, `UnitOfWork`, `Outbox`, `Inquiries`, `Statistics`) and start empty. `setup` returns
//! `None` only when the backend is not configured, after saying so on standard error; the case
//! then counts as passed, so CI must configure every backend. `teardown` runs only when the case
//! passed, so a failing case leaves its data behind for inspection.

pub mod audit;
pub mod catalog;
pub mod consents;
pub mod erasure;
pub mod fixtures;
pub mod gateway;
pub mod incidents;
pub mod inquiries;
pub mod ledger;
pub mod legal_orders;
pub mod members;
pub mod operators;
pub mod orders;
pub mod outbox;
pub mod processors;
pub mod rate_limits;
pub mod receipts;
pub mod retention;
pub mod sealer;
pub mod second_factors;
pub mod sessions;
pub mod stats;
pub mod tokens;
pub mod unit;

/// Expands every case of every storage suite into a `#[tokio::test]`, in one module per port.
///
/// `$setup` is an `async fn() -> Option<P>` where `P` dereferences to the store, returning a
/// fresh, empty store (or `None` for an unconfigured backend); `$teardown` an `async fn(P)`
/// run after a passing case.
#[macro_export]
macro_rules! storage_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, members: [
            inserted_member_reads_back_equal_by_id_and_by_email,
            unknown_member_is_none,
            second_member_with_the_same_email_is_a_conflict,
            concurrent_inserts_of_one_email_store_exactly_one,
            update_replaces_every_field,
            update_of_a_missing_member_is_not_found,
            update_to_another_members_email_is_a_conflict,
        ]);
        $crate::storage_contract_tests!(@suite $setup, $teardown, sessions: [
            inserted_session_is_found_by_its_token_hash_only,
            touch_records_last_use,
            touch_of_a_missing_session_is_not_found,
            for_member_lists_only_that_members_sessions_newest_first,
            delete_makes_the_token_unusable_at_once,
            delete_for_member_keeps_the_named_session_and_other_members,
            duplicate_token_hash_is_a_conflict,
        ]);
        $crate::storage_contract_tests!(@suite $setup, $teardown, second_factors: [
            a_totp_enrolment_reads_back_is_confirmed_and_replaced,
            a_totp_step_is_used_once_even_at_once,
            recovery_codes_are_replaced_as_a_set_and_each_used_once,
            a_sessions_assurance_is_updated_in_a_unit,
            erasure_removes_every_second_factor,
            passkeys_read_back_per_member_and_credentials_are_unique,
            a_passkey_counter_only_grows_even_at_once,
            enrolments_are_paged_and_a_secret_is_resealed_only_if_unchanged,
        ]);
        $crate::storage_contract_tests!(@suite $setup, $teardown, tokens: [
            inserted_token_is_found_without_being_used_up,
            take_returns_the_token_once,
            concurrent_takes_return_the_token_to_one_caller,
            delete_for_member_removes_only_that_purpose_of_that_member,
        ]);
        $crate::storage_contract_tests!(@suite $setup, $teardown, audit: [
            recorded_events_read_back_newest_first_within_the_limit,
            events_of_other_members_are_not_listed,
        ]);
        $crate::storage_contract_tests!(@suite $setup, $teardown, catalog: [
            saved_products_read_back_by_id_and_sku,
            save_all_replaces_products_by_id,
            a_sku_of_another_product_is_a_conflict_and_nothing_is_saved,
            active_lists_only_products_on_sale_by_sku_page_by_page,
            all_lists_every_product_by_sku,
        ]);
        $crate::storage_contract_tests!(@suite $setup, $teardown, orders: [
            created_orders_read_back_with_their_payment,
            a_repeated_idempotency_key_stores_one_order_even_at_once,
            attaching_a_checkout_to_an_unknown_payment_is_not_found,
            an_event_applies_once_and_records_history_and_paid_time,
            the_first_payment_puts_one_receipt_in_the_outbox,
            a_payment_after_erasure_sends_no_receipt,
            concurrent_deliveries_of_one_event_apply_once,
            concurrent_events_of_many_orders_each_get_their_own_outcome,
            late_stale_and_unknown_events_follow_the_state_machine,
            purchases_are_the_members_paid_items_newest_first_page_by_page,
            payments_are_the_members_attempts_newest_first_with_history,
            owned_products_are_those_of_paid_orders,
            later_events_may_name_the_payment_instead_of_the_checkout,
            an_event_for_a_checkout_not_yet_known_applies_when_redelivered,
        ]);
        $crate::storage_contract_tests!(@suite $setup, $teardown, receipts: [
            receipts_are_numbered_without_gaps_or_repeats_even_at_once,
            unreceipted_lists_paid_orders_without_a_receipt,
            refunds_get_one_return_invoice_from_their_own_sequence,
            receipts_survive_erasure_and_leave_with_their_orders,
        ]);
        $crate::storage_contract_tests!(@suite $setup, $teardown, incidents: [
            incidents_read_back_and_keep_their_first_times,
        ]);
        $crate::storage_contract_tests!(@suite $setup, $teardown, operators: [
            operators_read_back_and_addresses_are_unique,
            operator_sessions_are_their_own_scope,
            the_operators_audit_log_reads_back_newest_first,
        ]);
        $crate::storage_contract_tests!(@suite $setup, $teardown, consents: [
            purposes_are_saved_and_replaced_by_key,
            the_history_is_append_only_oldest_first_and_per_member,
        ]);
        $crate::storage_contract_tests!(@suite $setup, $teardown, ledger: [
            appended_entries_form_an_unbroken_chain,
            concurrent_appends_never_fork_the_chain,
            members_see_their_own_entries_once_visible,
        ]);
        $crate::storage_contract_tests!(@suite $setup, $teardown, erasure: [
            erasure_removes_personal_data_and_keeps_accounting_records,
        ]);
        $crate::storage_contract_tests!(@suite $setup, $teardown, legal_orders: [
            legal_orders_record_and_collect_distinct_approvals,
        ]);
        $crate::storage_contract_tests!(@suite $setup, $teardown, retention: [
            retention_removes_only_what_is_past_its_period,
        ]);
        $crate::storage_contract_tests!(@suite $setup, $teardown, processors: [
            processors_are_saved_and_replaced_by_key,
            a_proposal_is_in_force_only_once_adopted,
            partners_are_saved_and_replaced_by_key,
        ]);
        $crate::storage_contract_tests!(@suite $setup, $teardown, unit: [
            a_unit_applies_every_change,
            a_failing_change_leaves_nothing_of_its_unit,
            a_token_is_taken_by_one_unit_only,
            erasure_and_answers_in_a_unit_follow_their_rules,
        ]);
        $crate::storage_contract_tests!(@suite $setup, $teardown, outbox: [
            mails_are_claimed_oldest_first_and_sent_once,
            concurrent_claims_never_share_a_mail,
            sent_mails_are_settled_together_only_when_held,
            retries_wait_and_expired_leases_pass_on,
        ]);
        $crate::storage_contract_tests!(@suite $setup, $teardown, inquiries: [
            inquiries_read_back_with_their_answers,
            a_known_message_id_is_a_conflict,
            a_members_inquiries_are_those_they_sent_signed_in,
        ]);
        $crate::storage_contract_tests!(@suite $setup, $teardown, stats: [
            completed_days_are_rolled_up_once,
            raw_hits_are_purged_and_counts_stay,
        ]);
        $crate::storage_contract_tests!(@suite $setup, $teardown, rate_limits: [
            hits_count_up_within_a_window_and_restart_after_it,
            peek_does_not_count,
            reset_forgets_the_window,
            concurrent_hits_return_distinct_counts,
            keys_are_independent,
        ]);
    };
    (@suite $setup:path, $teardown:path, $suite:ident: [$($case:ident),+ $(,)?]) => {
        mod $suite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $case() {
                    let Some(store) = $setup().await else { return };
                    $crate::$suite::$case(&*store).await;
                    $teardown(store).await;
                }
            )+
        }
    };
}
