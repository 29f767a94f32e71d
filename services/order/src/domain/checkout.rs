//! What a checkout decides, on the order as read, before any store carries
//! it out: answer at once, join the running saga, or start a new one.
use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use events::{CheckoutRequested, Line};
use uuid::Uuid;

use super::{Order, OrderId, OrderStatus, TimelineEntry};
use crate::error::OrderError;

/// What the checkout found or did.
#[derive(Debug, PartialEq, Eq)]
pub enum Started {
    /// Paid before: answer 2xx at once, charge nothing.
    AlreadyPaid,
    /// A saga runs for this order: the one this checkout started (its id),
    /// or one it joined (`None`: the waiting reads the order to learn its
    /// end).
    Running(Option<Uuid>),
}

/// What a store must do for a checkout, decided on the order as read inside
/// the store's transaction.
#[derive(Debug, PartialEq)]
pub enum Plan {
    /// Nothing to write: answer this.
    Answer(Started),
    /// Make the order `checking_out` under the event's saga id, put the event
    /// into the outbox and the entry into the timeline, in one transaction.
    Start(Box<NewSaga>),
}

/// A saga about to start.
#[derive(Debug, PartialEq)]
pub struct NewSaga {
    pub event: CheckoutRequested,
    pub entry: TimelineEntry,
}

/// Decides a checkout of `order`: a paid order answers at once, a running
/// saga is joined, anything else starts a new saga for the order's items,
/// summed per item.
pub fn plan(order_id: &OrderId, order: Option<&Order>) -> Result<Plan, OrderError> {
    let order = order.ok_or_else(|| OrderError::OrderNotFound(order_id.clone()))?;
    match order.status {
        OrderStatus::Paid => return Ok(Plan::Answer(Started::AlreadyPaid)),
        OrderStatus::CheckingOut => return Ok(Plan::Answer(Started::Running(None))),
        OrderStatus::Open | OrderStatus::Failed => {}
    }
    // Time-ordered: the key of stock's reservations and of payments.
    let saga =
        request(order, Uuid::now_v7(), None).ok_or_else(|| OrderError::CostOverflow(order_id.clone()))?;
    Ok(Plan::Start(Box::new(saga)))
}

/// The request that drives a stalled saga again: the saga's own id, the
/// order's items (frozen while it runs), a new message. Stock and payment
/// answer a saga they have seen with the answer they gave, so driving it
/// again from its start resumes it wherever it stopped. `None` only if the
/// items' sums overflow, which the saga's start already ruled out.
pub fn redrive(order: &Order, saga_id: Uuid, stalled_for: Duration) -> Option<NewSaga> {
    let detail = format!(
        "driven again after {} s without progress",
        stalled_for.as_secs_f64()
    );
    request(order, saga_id, Some(detail))
}

fn request(order: &Order, saga_id: Uuid, detail: Option<String>) -> Option<NewSaga> {
    let event = CheckoutRequested {
        order_id: order.order_id.clone(),
        saga_id,
        user_id: order.user_id.clone(),
        total_cost: order.total_cost,
        lines: summed(&order.items)?,
        occurred_at: Utc::now(),
    };
    let entry = TimelineEntry {
        saga_id,
        service: "order".into(),
        event: "CheckoutRequested".into(),
        detail,
        at: event.occurred_at,
    };
    Some(NewSaga { event, entry })
}

/// The order's lines with the quantities of each item summed, by item id;
/// `None` if a sum leaves the 64-bit range.
fn summed(items: &[(String, i64)]) -> Option<Vec<Line>> {
    let mut totals: BTreeMap<&str, i64> = BTreeMap::new();
    for (item, quantity) in items {
        let total = totals.entry(item).or_default();
        *total = total.checked_add(*quantity)?;
    }
    let lines = totals.into_iter().map(|(item_id, quantity)| Line {
        item_id: item_id.to_owned(),
        quantity,
    });
    Some(lines.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_of_one_item_are_summed() {
        let items = vec![("b".into(), 1), ("a".into(), 2), ("b".into(), 3)];

        let lines = summed(&items).expect("no overflow");

        let pairs: Vec<(&str, i64)> = lines.iter().map(|l| (l.item_id.as_str(), l.quantity)).collect();
        assert_eq!(pairs, vec![("a", 2), ("b", 4)]);
    }

    fn order(status: OrderStatus) -> Order {
        Order {
            order_id: "o".into(),
            paid: status == OrderStatus::Paid,
            items: vec![("a".into(), 1), ("a".into(), 2)],
            user_id: "u".into(),
            total_cost: 3,
            status,
        }
    }

    #[test]
    fn a_paid_order_answers_at_once_and_a_running_saga_is_joined() {
        let id = OrderId::from_trusted("o".into());

        let paid = plan(&id, Some(&order(OrderStatus::Paid)));
        let running = plan(&id, Some(&order(OrderStatus::CheckingOut)));

        assert!(matches!(paid, Ok(Plan::Answer(Started::AlreadyPaid))));
        assert!(matches!(running, Ok(Plan::Answer(Started::Running(None)))));
    }

    #[test]
    fn an_open_or_failed_order_starts_a_saga_for_its_summed_lines() {
        let id = OrderId::from_trusted("o".into());
        for status in [OrderStatus::Open, OrderStatus::Failed] {
            let Ok(Plan::Start(saga)) = plan(&id, Some(&order(status))) else {
                panic!("a {status} order starts a saga");
            };
            let NewSaga { event, entry } = *saga;

            assert_eq!(
                (event.lines.len(), event.lines[0].quantity, event.total_cost),
                (1, 3, 3)
            );
            assert_eq!(
                (entry.saga_id, entry.event.as_str()),
                (event.saga_id, "CheckoutRequested")
            );
        }
    }

    #[test]
    fn an_unknown_order_is_not_found() {
        let id = OrderId::from_trusted("ghost".into());

        assert!(matches!(plan(&id, None), Err(OrderError::OrderNotFound(_))));
    }

    #[test]
    fn an_overflowing_sum_is_refused() {
        assert_eq!(summed(&[("a".into(), i64::MAX), ("a".into(), 1)]), None);
    }
}
