//! The order store's behaviours, written once over `OrderStore` and run
//! against every store: PostgreSQL always (a fresh database per test), and
//! MongoDB when `MONGODB_URL` names a replica set and the crate is built
//! with `--features mongodb`. The `requires_mongodb::…` tests are ignored,
//! so a run without a MongoDB server shows them as skipped;
//! `--run-ignored all` runs them (`make unit-test` does when `MONGODB_URL`
//! is set), and then they fail, rather than pass, when they cannot reach it.
mod checkout;
mod outbox;
mod requests;
mod stores;

/// Declares each behaviour once per store.
macro_rules! on_every_store {
    ($($module:ident :: $behaviour:ident),* $(,)?) => {
        mod on_postgres {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    crate::$module::$behaviour(crate::stores::postgres().await).await;
                }
            )*
        }

        mod requires_mongodb {
            $(
                #[tokio::test]
                #[ignore = "needs MongoDB: MONGODB_URL naming a replica set, and --features mongodb"]
                async fn $behaviour() {
                    crate::$module::$behaviour(crate::stores::mongodb().await).await;
                }
            )*
        }
    };
}

on_every_store!(
    requests::a_created_order_is_found_empty_and_unpaid,
    requests::lines_add_their_cost_and_an_overflow_changes_nothing,
    requests::a_keyed_request_runs_once_and_replays_its_answer,
    requests::a_refusal_is_final_for_its_key,
    checkout::concurrent_checkouts_start_one_saga,
    checkout::a_final_step_ends_the_saga_once,
    checkout::a_step_of_an_earlier_saga_leaves_the_running_one_alone,
    checkout::batch_init_leaves_an_order_being_checked_out_as_it_is,
    checkout::a_stalled_saga_is_driven_again_under_its_own_id,
    outbox::a_started_saga_publishes_its_request_exactly_once,
);

/// What only the PostgreSQL store does.
mod postgres_only {
    #[tokio::test]
    async fn applied_steps_report_the_sagas_they_ended() {
        crate::checkout::applied_steps_report_the_sagas_they_ended(crate::stores::postgres().await).await;
    }
}
