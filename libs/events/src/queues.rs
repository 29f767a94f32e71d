//! What each queue carries, as one enum per queue. The queue's bindings are
//! made from its enum's variants, and its consumer matches on the enum
//! without a catch-all arm: an event bound to a queue without a handler does
//! not compile.
use crate::contract::{DecodeError, Event, decode};
use crate::{
    CheckoutRequested, PaymentFailed, PaymentSucceeded, StockRejected, StockReleased, StockReserved,
};

/// The order service's queue: the events that end a saga. The steps in
/// between (`StockReserved`, `PaymentFailed`) are not delivered to it: a
/// second copy of each only for the order's timeline cost a quarter of the
/// saga's messages. The saga's trace shows every step.
pub const ORDER_QUEUE: &str = "order.checkout";
/// The stock service's queue: checkouts to reserve, payments failed to undo.
pub const STOCK_QUEUE: &str = "stock.checkout";
/// The payment service's queue: reservations to charge.
pub const PAYMENT_QUEUE: &str = "payment.checkout";

/// Declares a queue's enum: a variant per event, named as the event, with
/// its decoding by AMQP `type` and the bindings that route those events.
macro_rules! queue_events {
    ($(#[$doc:meta])* $name:ident = $queue:ident { $($event:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $name {
            $($event($event)),+
        }

        impl $name {
            /// Reads a message of the queue by its AMQP `type` and schema
            /// version; an event the queue is not bound to is refused.
            pub fn decode(event_type: &str, version: i32, body: &[u8]) -> Result<Self, DecodeError> {
                match event_type {
                    $(<$event as Event>::NAME => Ok($name::$event(decode(version, body)?)),)+
                    other => Err(DecodeError::NotCarried {
                        queue: $queue,
                        event_type: other.to_owned(),
                    }),
                }
            }

            /// `(exchange, routing key)` of each event the queue carries.
            pub fn bindings() -> Vec<(String, String)> {
                vec![$(binding::<$event>()),+]
            }
        }
    };
}

queue_events! {
    /// What [`STOCK_QUEUE`] carries.
    StockQueueEvent = STOCK_QUEUE { CheckoutRequested, PaymentFailed }
}

queue_events! {
    /// What [`PAYMENT_QUEUE`] carries.
    PaymentQueueEvent = PAYMENT_QUEUE { StockReserved }
}

queue_events! {
    /// What [`ORDER_QUEUE`] carries: each event ends a saga.
    OrderQueueEvent = ORDER_QUEUE { StockRejected, PaymentSucceeded, StockReleased }
}

/// The binding that routes `E` to a queue, from the event's own constants.
fn binding<E: Event>() -> (String, String) {
    (E::EXCHANGE.to_owned(), E::ROUTING_KEY.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn released() -> StockReleased {
        StockReleased {
            order_id: "o".into(),
            saga_id: Uuid::now_v7(),
            reason: "no credit".into(),
            occurred_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_carried_event_is_read_as_its_variant() {
        let event = released();
        let body = serde_json::to_vec(&event).expect("serialises");

        let read = OrderQueueEvent::decode(StockReleased::NAME, StockReleased::VERSION, &body);

        assert_eq!(read.ok(), Some(OrderQueueEvent::StockReleased(event)));
    }

    #[test]
    fn an_event_the_queue_is_not_bound_to_is_refused_by_name() {
        let body = serde_json::to_vec(&released()).expect("serialises");

        let read = PaymentQueueEvent::decode(StockReleased::NAME, StockReleased::VERSION, &body);

        let error = read.expect_err("payment.checkout does not carry StockReleased");
        assert_eq!(
            error.to_string(),
            "payment.checkout does not carry StockReleased events"
        );
    }

    #[test]
    fn each_queue_is_bound_to_exactly_its_events() {
        assert_eq!(
            StockQueueEvent::bindings(),
            [
                ("order".to_owned(), "checkout.requested".to_owned()),
                ("payment".to_owned(), "payment.failed".to_owned())
            ]
        );
        assert_eq!(OrderQueueEvent::bindings().len(), 3);
    }
}
