use std::collections::BTreeMap;

use chrono::Utc;
use events::{CheckoutRequested, Line};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::OrderId;
use crate::error::OrderError;
use crate::storage::saga;

/// What the checkout found or did.
#[derive(Debug, PartialEq, Eq)]
pub enum Started {
    /// Paid before: answer 2xx at once, charge nothing.
    AlreadyPaid,
    /// A saga runs for this order (just started, or joined).
    Running,
}

/// Starts a saga unless one runs or the order is paid: in one transaction,
/// the order becomes `checking_out` and `CheckoutRequested` enters the
/// outbox. Concurrent checkouts of one order queue on the row lock; the
/// first starts the saga and the others join it.
#[tracing::instrument(skip(pool))]
pub async fn start_or_join(pool: &PgPool, order_id: &OrderId) -> Result<Started, OrderError> {
    let mut tx = pool.begin().await.map_err(platform::database::DbError::from)?;
    let order = saga::lock_for_checkout(&mut tx, order_id)
        .await?
        .ok_or_else(|| OrderError::OrderNotFound(order_id.clone()))?;
    match order.status.as_str() {
        "paid" => return Ok(Started::AlreadyPaid),
        "checking_out" => return Ok(Started::Running),
        _ => {}
    }
    let saga_id = Uuid::new_v4();
    let event = CheckoutRequested {
        order_id: order_id.to_string(),
        saga_id,
        user_id: order.user_id,
        total_cost: order.total_cost,
        lines: summed(&order.items.0).ok_or_else(|| OrderError::CostOverflow(order_id.clone()))?,
        occurred_at: Utc::now(),
    };
    saga::start_saga(&mut tx, order_id, saga_id).await?;
    outbox::enqueue(&mut tx, &events::message(&event)).await?;
    saga::record_step(
        &mut *tx,
        order_id.as_str(),
        saga_id,
        "order",
        "CheckoutRequested",
        None,
        event.occurred_at,
    )
    .await?;
    tx.commit().await.map_err(platform::database::DbError::from)?;
    Ok(Started::Running)
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

    #[test]
    fn an_overflowing_sum_is_refused() {
        assert_eq!(summed(&[("a".into(), i64::MAX), ("a".into(), 1)]), None);
    }
}
