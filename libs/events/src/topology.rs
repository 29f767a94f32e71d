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
            },
            QueueSpec {
                name: PAYMENT_QUEUE.into(),
                bindings: PaymentQueueEvent::bindings(),
            },
            QueueSpec {
                name: ORDER_QUEUE.into(),
                bindings: OrderQueueEvent::bindings(),
            },
        ],
    }
}
