use outbox::topology::{QueueSpec, Topology};

use crate::queues::{
    ORDER_QUEUE, OrderQueueEvent, PAYMENT_QUEUE, PaymentQueueEvent, STOCK_QUEUE, StockQueueEvent,
};

/// The whole system's exchanges, queues and bindings. Every service declares
/// all of it, so that whichever starts first, no event finds its queue missing.
pub fn topology() -> Topology {
    Topology {
        exchanges: vec!["order".into(), "stock".into(), "payment".into()],
        queues: vec![
            QueueSpec {
                name: STOCK_QUEUE.into(),
                bindings: StockQueueEvent::bindings(),
                retired_bindings: Vec::new(),
            },
            QueueSpec {
                name: PAYMENT_QUEUE.into(),
                bindings: PaymentQueueEvent::bindings(),
                retired_bindings: Vec::new(),
            },
            QueueSpec {
                name: ORDER_QUEUE.into(),
                bindings: OrderQueueEvent::bindings(),
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
