//! The broker as tests see it: a namespace of their own, and a channel to
//! look at its queues the services do not show.
use outbox::BrokerSettings;

/// The environment's broker with a fresh namespace (`test-<uuid>.*`), whose
/// queues expire once unused: tests side by side never see each other's
/// messages.
pub fn isolated_broker() -> BrokerSettings {
    BrokerSettings::from_env().expect("broker settings").isolated()
}

/// A channel on `broker`, with the connection it lives on: dropping the
/// connection closes the channel. `name` shows in RabbitMQ's management.
pub async fn broker_channel(broker: &BrokerSettings, name: &str) -> (lapin::Connection, lapin::Channel) {
    let connection = outbox::broker::connect(broker, name)
        .await
        .expect("RabbitMQ is running");
    let channel = connection.create_channel().await.expect("a channel");
    (connection, channel)
}
