//! Services started as `main` starts them, on port 0, each on the database
//! and broker namespace a test gives it, running in the test's runtime.
use std::future::{Future, pending};

use idempotency::participant::{Application, Participant, Settings};
use outbox::BrokerSettings;
use platform::testing::{database, fresh_database_name};

use crate::{TestApp, isolated_broker};

/// Tests run side by side on one server with a limit of 100 connections.
const POOL_SIZE: u32 = 4;

/// A stock or payment service alone, on a fresh database and an isolated
/// broker namespace, running until the test ends.
pub async fn spawn_alone<P: Participant + 'static>() -> TestApp {
    let database = fresh_database_name(P::NAME);
    spawn_participant::<P>(&database, &isolated_broker(), pending()).await
}

/// A stock or payment replica on `database` (which its start-up creates and
/// migrates; replicas given one name share it, as in production) and
/// `broker`, that stops when `shutdown` completes.
pub async fn spawn_participant<P: Participant + 'static>(
    database_name: &str,
    broker: &BrokerSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> TestApp {
    platform::telemetry::init_for_tests(P::NAME);
    let mut settings = Settings::<P>::from_env().expect("settings from the environment");
    settings.http.port = 0;
    settings.database = database(database_name);
    settings.database.max_connections = POOL_SIZE;
    settings.messaging.broker = broker.clone();
    let application = Application::<P>::build(settings)
        .await
        .expect("the service starts (are PostgreSQL and RabbitMQ running?)");
    let app = TestApp::new(application.port(), application.pool().clone());
    tokio::spawn(application.run_until_stopped(shutdown));
    app
}

/// An order replica on `database` and `broker` whose peers are at `stock`
/// and `payment` (which need not answer), with its settings changed by
/// `configure`; it runs until the test ends.
pub async fn spawn_order(
    database_name: &str,
    broker: &BrokerSettings,
    stock: &str,
    payment: &str,
    configure: impl FnOnce(&mut order::configuration::Settings),
) -> TestApp {
    platform::telemetry::init_for_tests("order");
    let mut settings = order::configuration::Settings::from_env().expect("settings from the environment");
    settings.http.port = 0;
    settings.database = database(database_name);
    settings.database.max_connections = POOL_SIZE;
    settings.messaging.broker = broker.clone();
    settings.peers.stock_url = stock.to_owned();
    settings.peers.payment_url = payment.to_owned();
    configure(&mut settings);
    let application = order::startup::Application::build(settings)
        .await
        .expect("the order service starts (are PostgreSQL and RabbitMQ running?)");
    let pool = application
        .pool()
        .expect("the order service's default store is PostgreSQL");
    let app = TestApp::new(application.port(), pool.clone());
    tokio::spawn(application.run_until_stopped(pending()));
    app
}
