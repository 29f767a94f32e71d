//! Connections to RabbitMQ and publishing with confirms.
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use lapin::{Confirmation, PublisherConfirm};

use crate::message::{OutboxMessage, headers};
use crate::settings::BrokerSettings;

/// Opens a connection named after its user, so `rabbitmqctl list_connections`
/// tells which process and component holds it. The broker's addresses are
/// tried in turn from a random one: a process's connections spread over a
/// cluster's nodes, and a node that is down is passed over for the next.
pub async fn connect(settings: &BrokerSettings, name: &str) -> Result<Connection, lapin::Error> {
    let properties = ConnectionProperties::default().with_connection_name(LongString::from(name));
    let uris = settings.uris();
    let first = fastrand::usize(..uris.len().max(1));
    let mut failure = None;
    for uri in uris.iter().cycle().skip(first).take(uris.len()) {
        match Connection::connect_uri(uri.clone(), properties.clone()).await {
            Ok(connection) => return Ok(connection),
            Err(error) => {
                tracing::debug!(host = %uri.authority.host, port = uri.authority.port, %error,
                    "broker node unreachable; trying the next");
                failure = Some(error);
            }
        }
    }
    Err(failure.unwrap_or_else(|| std::io::Error::other("AMQP_URL names no broker").into()))
}

/// Why a message did not reach a queue.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("broker connection failed")]
    Broker(#[from] lapin::Error),
    #[error("the broker refused the message")]
    Nacked,
    /// No queue is bound for the routing key: the topology is incomplete.
    #[error("no queue is bound for routing key {0}")]
    Unroutable(String),
}

/// A channel in confirm mode: a publish counts only once the broker has
/// written the message to every queue it routes to.
#[derive(Debug)]
pub struct Publisher {
    connection: Connection,
    channel: Channel,
    settings: BrokerSettings,
}

impl Publisher {
    pub async fn connect(settings: &BrokerSettings, name: &str) -> Result<Self, lapin::Error> {
        let connection = connect(settings, name).await?;
        let channel = connection.create_channel().await?;
        channel.confirm_select(ConfirmSelectOptions::default()).await?;
        Ok(Publisher {
            connection,
            channel,
            settings: settings.clone(),
        })
    }

    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// Sends an outbox message; await the returned confirm to know it landed.
    /// Sending many before awaiting their confirms pipelines them.
    /// The routing key carries the partition of the message's aggregate.
    pub async fn send(&self, message: &OutboxMessage) -> Result<PublisherConfirm, lapin::Error> {
        let body = serde_json::to_vec(&message.payload).unwrap_or_default();
        let partitions = self.settings.partitions;
        self.send_raw(
            &self.settings.name(&message.exchange),
            &partitions.routing_key(&message.routing_key, &message.aggregate_id),
            &body,
            properties_of(message),
        )
        .await
    }

    /// Sends bytes as they are, e.g. a delivery being retried or parked.
    pub async fn send_raw(
        &self,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<PublisherConfirm, lapin::Error> {
        let options = BasicPublishOptions {
            mandatory: true,
            ..BasicPublishOptions::default()
        };
        self.channel
            .basic_publish(exchange.into(), routing_key.into(), options, body, properties)
            .await
    }
}

/// Waits for the broker's verdict on one publish.
pub async fn confirmed(confirm: PublisherConfirm, routing_key: &str) -> Result<(), PublishError> {
    match confirm.await? {
        Confirmation::Ack(None) | Confirmation::NotRequested => Ok(()),
        Confirmation::Ack(Some(_)) => Err(PublishError::Unroutable(routing_key.to_owned())),
        Confirmation::Nack(_) => Err(PublishError::Nacked),
    }
}

/// Persistent JSON with the message id, the event type as AMQP `type`, and
/// the headers consumers and tracing read.
fn properties_of(message: &OutboxMessage) -> BasicProperties {
    let mut table = FieldTable::default();
    table.insert(
        headers::SCHEMA_VERSION.into(),
        AMQPValue::LongInt(message.schema_version),
    );
    table.insert(
        headers::AGGREGATE_ID.into(),
        AMQPValue::LongString(message.aggregate_id.as_str().into()),
    );
    if let Some(traceparent) = &message.traceparent {
        table.insert(
            headers::TRACEPARENT.into(),
            AMQPValue::LongString(traceparent.as_str().into()),
        );
    }
    BasicProperties::default()
        .with_message_id(ShortString::from(message.message_id.to_string()))
        .with_type(ShortString::from(message.event_type.as_str()))
        .with_content_type("application/json".into())
        .with_delivery_mode(2)
        .with_timestamp(chrono::Utc::now().timestamp().max(0) as u64)
        .with_headers(table)
}
