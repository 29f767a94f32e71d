//! Waking waiting checkouts from MongoDB: a change stream on the orders
//! reports every saga that ends, whichever replica ended it. Change streams
//! need a replica set (as transactions do); on a server without them the
//! waiting checkouts fall back to re-reading their order every second.
use std::future::Future;
use std::time::Duration;

use futures::TryStreamExt;
use mongodb::bson::doc;
use mongodb::error::{Error, ErrorKind};
use outbox::Backoff;

use super::setup::Collections;
use crate::domain::OrderStatus;
use crate::waiters::Waiters;

/// The server's answer to a change stream on a standalone server.
const CHANGE_STREAMS_UNSUPPORTED: i32 = 40573;

pub async fn listen(collections: Collections, waiters: Waiters, shutdown: impl Future<Output = ()>) {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
    tokio::pin!(shutdown);
    loop {
        let error = tokio::select! {
            error = watch(&collections, &waiters, &mut backoff) => error,
            () = &mut shutdown => return,
        };
        if matches!(error.kind.as_ref(), ErrorKind::Command(e) if e.code == CHANGE_STREAMS_UNSUPPORTED) {
            tracing::warn!(
                "MongoDB has no change streams (not a replica set); checkouts re-read every second"
            );
            return shutdown.await;
        }
        tracing::warn!(%error, "lost the checkout outcome change stream");
        tokio::select! {
            () = tokio::time::sleep(backoff.next_delay()) => {}
            () = &mut shutdown => return,
        }
    }
}

/// Watches until the stream fails; after each (re)start it wakes every
/// waiter, as an outcome may have been missed in between.
async fn watch(collections: &Collections, waiters: &Waiters, backoff: &mut Backoff) -> Error {
    let ended = doc! { "$match": {
        "operationType": "update",
        "updateDescription.updatedFields.status": { "$in": [OrderStatus::Paid, OrderStatus::Failed] },
    } };
    let mut stream = match collections.orders.watch().pipeline([ended]).await {
        Ok(stream) => stream,
        Err(error) => return error,
    };
    backoff.reset();
    waiters.wake_all();
    loop {
        match stream.try_next().await {
            Ok(Some(event)) => {
                if let Some(order_id) = event
                    .document_key
                    .as_ref()
                    .and_then(|key| key.get_str("_id").ok())
                {
                    waiters.wake(order_id);
                }
            }
            Ok(None) => return Error::custom("the change stream ended"),
            Err(error) => return error,
        }
    }
}
