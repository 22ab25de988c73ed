//! One store conformance suite, written once against the `Store` trait and run against both
//! backends: SQLite on a temporary file, PostgreSQL on a fresh, uniquely named database that
//! each test creates and drops (`TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`). A PostgreSQL test fails, never skips, when
//! the server is unreachable, and says how to start one.
#![allow(clippy::unwrap_used)] // a test that unwraps fails with the cause, as it should

mod activity;
mod analytics;
mod backends;
mod forwards;
mod leased;
mod outbox;
mod recorded;
mod recordings;
mod reports;
mod retention;

/// Runs each case against both backends: `sqlite::case` and `postgres::case`.
macro_rules! conformance {
    ($($module:ident :: $case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let backend = crate::backends::Backend::sqlite();
                    crate::$module::$case(backend.store.as_ref()).await;
                    backend.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let backend = crate::backends::Backend::postgres(stringify!($case)).await;
                    crate::$module::$case(backend.store.as_ref()).await;
                    backend.finish().await;
                }
            )*
        }
    };
}

conformance!(
    activity::counts_from_every_flush_add_up,
    activity::minutes_roll_into_their_hours_once,
    activity::concurrent_rolls_move_each_minute_once,
    activity::old_counts_are_pruned_oldest_first,
    analytics::analytics_from_every_flush_add_up,
    analytics::hours_roll_into_local_days,
    analytics::names_are_admitted_up_to_the_cap,
    analytics::old_analytics_are_pruned_oldest_first,
    reports::a_new_report_is_stored_byte_for_byte,
    reports::the_same_content_again_is_a_counted_duplicate,
    reports::concurrent_duplicates_store_one_row,
    reports::reports_page_in_id_order,
    reports::calls_are_registered_once,
    reports::overdue_calls_are_settled_once,
    outbox::an_idempotency_key_returns_the_first_event,
    outbox::claims_lease_due_deliveries_in_order_with_bodies,
    outbox::a_lease_hides_a_delivery_until_it_expires,
    outbox::concurrent_claimers_never_share_a_delivery,
    outbox::an_ordered_call_waits_for_its_earlier_delivery,
    outbox::attempts_move_deliveries_and_are_kept,
    outbox::a_lost_lease_records_the_attempt_but_moves_nothing,
    outbox::retries_lane_and_due_times,
    outbox::a_claim_round_tells_when_the_lane_is_next_due,
    outbox::dead_deliveries_are_retried_one_or_by_range,
    outbox::listings_filter_and_page,
    outbox::a_pause_is_stored_until_it_is_resumed,
    recorded::a_finished_delivery_names_the_next_of_its_call,
    recorded::an_attempt_for_no_delivery_is_refused,
    recorded::an_answer_with_a_nul_character_is_recorded,
    leased::a_lease_offer_is_taken_only_when_the_delivery_may_go,
    leased::concurrent_offers_for_one_ordered_call_lease_one,
    forwards::a_new_report_is_forwarded_once_to_each_destination,
    forwards::a_calls_forwards_go_in_order_per_destination,
    retention::old_rows_are_pruned_and_pending_work_is_kept,
    reports::reports_before_a_cursor_come_newest_first,
    reports::calls_are_found_by_prefix,
    forwards::consumer_cursors_move_forward_only,
    forwards::a_forward_takes_its_lease_only_when_it_may_go,
    forwards::concurrent_forwards_of_one_ordered_call_lease_one,
    recordings::a_recording_is_kept_once_per_call_and_link,
    recordings::old_recordings_page_and_say_which_fetch_is_pending,
);
