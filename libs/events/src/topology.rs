use outbox::topology::{QueueSpec, Topology};

use crate::{
    CheckoutRequested, Event, PaymentFailed, PaymentSucceeded, StockRejected, StockReleased, StockReserved,
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

/// The whole system's exchanges, queues and bindings. Every service declares
/// all of it, so that whichever starts first, no event finds its queue missing.
pub fn topology() -> Topology {
    Topology {
        exchanges: vec!["order".into(), "stock".into(), "payment".into()],
        queues: vec![
            QueueSpec {
                name: STOCK_QUEUE.into(),
                bindings: vec![binding::<CheckoutRequested>(), binding::<PaymentFailed>()],
                retired_bindings: Vec::new(),
            },
            QueueSpec {
                name: PAYMENT_QUEUE.into(),
                bindings: vec![binding::<StockReserved>()],
                retired_bindings: Vec::new(),
            },
            QueueSpec {
                name: ORDER_QUEUE.into(),
                bindings: vec![
                    binding::<StockRejected>(),
                    binding::<PaymentSucceeded>(),
                    binding::<StockReleased>(),
                ],
                // What earlier versions bound, removed from brokers that
                // still have it.
                retired_bindings: vec![
                    ("stock".into(), "stock.*".into()),
                    ("payment".into(), "payment.*".into()),
                ],
            },
        ],
    }
}

/// The binding that routes `E` to a queue, from the event's own constants.
fn binding<E: Event>() -> (String, String) {
    (E::EXCHANGE.to_owned(), E::ROUTING_KEY.to_owned())
}
