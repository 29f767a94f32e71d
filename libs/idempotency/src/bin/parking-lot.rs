//! Lists or replays the messages parked for a queue.
//!
//! ```text
//! parking-lot list   <queue>    e.g. parking-lot list stock.checkout
//! parking-lot replay <queue>
//! ```
//! `AMQP_URL` and `AMQP_NAMESPACE` say which broker and system, as for the
//! services; `rabbitmqctl list_queues name messages | grep parked` shows
//! which queues hold parked messages.
use anyhow::{Context, bail};
use idempotency::parking;
use outbox::BrokerSettings;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let settings = BrokerSettings::from_env()?;
    match arguments
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["list", queue] => {
            let parked = parking::list(&settings, queue)
                .await
                .context("listing parked messages")?;
            for message in &parked {
                println!(
                    "{} {} attempts={} error={}",
                    message.message_id, message.event_type, message.attempts, message.error
                );
            }
            println!("{} parked in {}", parked.len(), settings.name(queue));
        }
        ["replay", queue] => {
            let replayed = parking::replay(&settings, queue)
                .await
                .context("replaying parked messages")?;
            println!("{replayed} replayed to {}", settings.name(queue));
        }
        _ => bail!("usage: parking-lot list|replay <queue>   (queue as in stock.checkout)"),
    }
    Ok(())
}
