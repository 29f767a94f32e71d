//! The payloads. Amounts are `i64` as in the databases; every payload names
//! its order and its saga, and says when its step happened.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::contract::Event;

/// One item of a checkout, quantities of the same item summed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub item_id: String,
    pub quantity: i64,
}

/// order → stock: take these items for this order, or refuse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutRequested {
    pub order_id: String,
    pub saga_id: Uuid,
    pub user_id: String,
    pub total_cost: i64,
    pub lines: Vec<Line>,
    pub occurred_at: DateTime<Utc>,
}

/// stock → payment: the items are taken; charge the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockReserved {
    pub order_id: String,
    pub saga_id: Uuid,
    pub user_id: String,
    pub total_cost: i64,
    pub lines: Vec<Line>,
    pub occurred_at: DateTime<Utc>,
}

/// stock → order: nothing was taken; the checkout failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockRejected {
    pub order_id: String,
    pub saga_id: Uuid,
    pub reason: String,
    pub occurred_at: DateTime<Utc>,
}

/// payment → order: the user was charged; the order is paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentSucceeded {
    pub order_id: String,
    pub saga_id: Uuid,
    pub amount: i64,
    pub occurred_at: DateTime<Utc>,
}

/// payment → stock: the user could not be charged; give the items back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFailed {
    pub order_id: String,
    pub saga_id: Uuid,
    pub reason: String,
    pub occurred_at: DateTime<Utc>,
}

/// stock → order: the items taken for the saga are back; it failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockReleased {
    pub order_id: String,
    pub saga_id: Uuid,
    /// Why the saga failed (the payment's reason), for the client's answer.
    pub reason: String,
    pub occurred_at: DateTime<Utc>,
}

macro_rules! event {
    ($type:ty, $name:literal, $exchange:literal, $key:literal) => {
        impl Event for $type {
            const NAME: &'static str = $name;
            const VERSION: i32 = 1;
            const EXCHANGE: &'static str = $exchange;
            const ROUTING_KEY: &'static str = $key;

            fn order_id(&self) -> &str {
                &self.order_id
            }
        }
    };
}

event!(
    CheckoutRequested,
    "CheckoutRequested",
    "order",
    "checkout.requested"
);
event!(StockReserved, "StockReserved", "stock", "stock.reserved");
event!(StockRejected, "StockRejected", "stock", "stock.rejected");
event!(
    PaymentSucceeded,
    "PaymentSucceeded",
    "payment",
    "payment.succeeded"
);
event!(PaymentFailed, "PaymentFailed", "payment", "payment.failed");
event!(StockReleased, "StockReleased", "stock", "stock.released");

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<E: Event + PartialEq + std::fmt::Debug>(event: E) {
        let message = crate::message(&event);
        assert_eq!(message.event_type, E::NAME);
        assert_eq!(message.aggregate_id, event.order_id());
        let back: E = serde_json::from_value(message.payload).expect("reads back");
        assert_eq!(back, event);
    }

    fn saga() -> (String, Uuid, DateTime<Utc>) {
        ("order-1".into(), Uuid::new_v4(), Utc::now())
    }

    #[test]
    fn every_event_survives_a_round_trip_through_its_message() {
        let (order_id, saga_id, occurred_at) = saga();
        let lines = vec![Line {
            item_id: "7".into(),
            quantity: 2,
        }];
        round_trip(CheckoutRequested {
            order_id: order_id.clone(),
            saga_id,
            user_id: "3".into(),
            total_cost: 10,
            lines: lines.clone(),
            occurred_at,
        });
        round_trip(StockReserved {
            order_id: order_id.clone(),
            saga_id,
            user_id: "3".into(),
            total_cost: 10,
            lines,
            occurred_at,
        });
        let reason = "not enough".to_string();
        round_trip(StockRejected {
            order_id: order_id.clone(),
            saga_id,
            reason: reason.clone(),
            occurred_at,
        });
        round_trip(PaymentSucceeded {
            order_id: order_id.clone(),
            saga_id,
            amount: 10,
            occurred_at,
        });
        round_trip(PaymentFailed {
            order_id: order_id.clone(),
            saga_id,
            reason: reason.clone(),
            occurred_at,
        });
        round_trip(StockReleased {
            order_id,
            saga_id,
            reason,
            occurred_at,
        });
    }

    #[test]
    fn the_wire_format_is_stable() {
        let event = PaymentSucceeded {
            order_id: "o".into(),
            saga_id: Uuid::nil(),
            amount: 5,
            occurred_at: DateTime::from_timestamp(0, 0).expect("epoch"),
        };
        assert_eq!(
            serde_json::to_string(&event).expect("JSON"),
            r#"{"order_id":"o","saga_id":"00000000-0000-0000-0000-000000000000","amount":5,"occurred_at":"1970-01-01T00:00:00Z"}"#
        );
    }
}
