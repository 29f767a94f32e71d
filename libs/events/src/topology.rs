use outbox::topology::{QueueSpec, Topology};

/// The order service's queue: the saga's outcomes, and every step for the
/// order's timeline.
pub const ORDER_QUEUE: &str = "order.checkout";
/// The stock service's queue: checkouts to reserve, payments failed to undo.
pub const STOCK_QUEUE: &str = "stock.checkout";
/// The payment service's queue: reservations to charge.
pub const PAYMENT_QUEUE: &str = "payment.checkout";

/// The whole system's exchanges, queues and bindings. Every service declares
/// all of it, so that whichever starts first, no event finds its queue missing.
pub fn topology() -> Topology {
    let bind = |exchange: &str, key: &str| (exchange.to_owned(), key.to_owned());
    Topology {
        exchanges: vec!["order".into(), "stock".into(), "payment".into()],
        queues: vec![
            QueueSpec {
                name: STOCK_QUEUE.into(),
                bindings: vec![
                    bind("order", "checkout.requested"),
                    bind("payment", "payment.failed"),
                ],
            },
            QueueSpec {
                name: PAYMENT_QUEUE.into(),
                bindings: vec![bind("stock", "stock.reserved")],
            },
            QueueSpec {
                name: ORDER_QUEUE.into(),
                bindings: vec![bind("stock", "stock.*"), bind("payment", "payment.*")],
            },
        ],
    }
}
