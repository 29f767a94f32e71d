//! Publishing one batch of outbox messages with confirms, over a connection
//! the relay keeps between batches.
use crate::broker::{PublishError, Publisher, confirmed};
use crate::message::OutboxMessage;
use crate::settings::BrokerSettings;
use crate::topology::Topology;

/// What the broker made of a batch.
#[derive(Debug, Default)]
pub(crate) struct Confirmations {
    /// Positions, within the batch, of the messages the broker confirmed.
    pub(crate) confirmed: Vec<usize>,
    /// How many were not confirmed, and why the first was not.
    pub(crate) failure: Option<(usize, PublishError)>,
}

impl Confirmations {
    /// Counts `count` more messages not confirmed; the first error stays
    /// the one reported.
    pub(crate) fn not_confirmed(&mut self, count: usize, error: PublishError) {
        let (earlier, first) = match self.failure.take() {
            Some((earlier, first)) => (earlier, first),
            None => (0, error),
        };
        self.failure = Some((earlier + count, first));
    }
}

/// A publisher connected lazily and dropped on any broker error, so the next
/// batch reconnects.
#[derive(Debug)]
pub(crate) struct BatchPublisher {
    broker: BrokerSettings,
    /// Declared on every (re)connect, so no event is published to an
    /// exchange, or for a queue, that a fresh broker does not have yet.
    topology: Topology,
    /// Labels the broker connection (e.g. `stock-1 relay`).
    name: String,
    publisher: Option<Publisher>,
}

impl BatchPublisher {
    pub(crate) fn new(broker: BrokerSettings, topology: Topology, name: &str) -> Self {
        BatchPublisher {
            broker,
            topology,
            name: name.to_owned(),
            publisher: None,
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Drops the connection, so the next batch opens a fresh one: after a
    /// batch whose confirms never came, its state is unknown.
    pub(crate) fn reconnect(&mut self) {
        self.publisher = None;
    }

    /// Sends every message (pipelined), then waits for every confirm. An
    /// `Err` means nothing can be counted as published.
    pub(crate) async fn publish(
        &mut self,
        messages: &[&OutboxMessage],
    ) -> Result<Confirmations, lapin::Error> {
        let mut confirmations = Confirmations::default();
        if messages.is_empty() {
            return Ok(confirmations);
        }
        let publisher = self.publisher().await?;
        let mut pending = Vec::with_capacity(messages.len());
        for message in messages {
            match publisher.send(message).await {
                Ok(confirm) => pending.push(confirm),
                Err(error) => {
                    self.publisher = None;
                    return Err(error);
                }
            }
        }
        for (index, (confirm, message)) in pending.into_iter().zip(messages).enumerate() {
            match confirmed(confirm, &message.routing_key).await {
                Ok(()) => confirmations.confirmed.push(index),
                Err(error) => confirmations.not_confirmed(1, error),
            }
        }
        if matches!(confirmations.failure, Some((_, PublishError::Broker(_)))) {
            self.publisher = None;
        }
        Ok(confirmations)
    }

    async fn publisher(&mut self) -> Result<&Publisher, lapin::Error> {
        let connected = self
            .publisher
            .as_ref()
            .is_some_and(|p| p.channel().status().connected());
        if !connected {
            let publisher = Publisher::connect(&self.broker, &self.name).await?;
            self.topology
                .declare(publisher.connection(), &self.broker)
                .await?;
            self.publisher = Some(publisher);
        }
        Ok(self.publisher.as_ref().expect("connected just above"))
    }
}
