//! Deciding a checkout's reservation from the stock it found locked: all
//! lines or none, with the reason when none. Pure, so it is tested without a
//! database; `consumers::checkout_requested` applies what it decides.
use std::collections::BTreeMap;

use events::Line;
use platform::domain::Amount;

use super::ItemId;
use crate::error::StockError;

/// Every item a checkout takes and how many, summed per item and sorted by
/// item id: the order in which its rows are locked, the same for every saga,
/// so that two sagas never wait on each other in a circle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub lines: Vec<(ItemId, i64)>,
}

impl Wanted {
    /// `Err` with the refusal's reason when an item id is not one (the lines
    /// come from another service), a quantity is negative or a sum leaves
    /// the 64-bit range.
    pub fn from_lines(lines: &[Line]) -> Result<Self, String> {
        let mut summed: BTreeMap<&str, i64> = BTreeMap::new();
        for line in lines {
            if line.quantity < 0 {
                return Err(format!(
                    "item {}: quantity {} is negative",
                    line.item_id, line.quantity
                ));
            }
            let total = summed.entry(&line.item_id).or_default();
            *total = total
                .checked_add(line.quantity)
                .ok_or_else(|| format!("item {}: the quantities add up beyond any stock", line.item_id))?;
        }
        let lines = summed
            .into_iter()
            .map(|(id, q)| Ok((ItemId::parse(id).map_err(|error| error.to_string())?, q)))
            .collect::<Result<_, String>>()?;
        Ok(Wanted { lines })
    }

    pub fn item_ids(&self) -> Vec<&str> {
        self.lines.iter().map(|(id, _)| id.as_str()).collect()
    }

    /// Whether `stock` (item id and stock, as locked) covers every line;
    /// the first line it does not cover is the refusal.
    pub fn shortfall(&self, stock: &[(String, i64)]) -> Option<StockError> {
        let levels: BTreeMap<&str, i64> = stock.iter().map(|(id, s)| (id.as_str(), *s)).collect();
        self.lines.iter().find_map(|(id, quantity)| {
            let item = id.clone();
            match levels.get(id.as_str()) {
                None => Some(StockError::ItemNotFound(item)),
                Some(level) if level < quantity => Some(StockError::InsufficientStock {
                    item,
                    amount: Amount::try_from(*quantity).unwrap_or(Amount::ZERO),
                }),
                Some(_) => None,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(item_id: &str, quantity: i64) -> Line {
        Line {
            item_id: item_id.into(),
            quantity,
        }
    }

    #[test]
    fn lines_are_summed_per_item_and_sorted() {
        let wanted = Wanted::from_lines(&[line("b", 1), line("a", 2), line("b", 3)]).expect("valid");

        let lines: Vec<(&str, i64)> = wanted.lines.iter().map(|(id, q)| (id.as_str(), *q)).collect();
        assert_eq!(lines, vec![("a", 2), ("b", 4)]);
    }

    #[test]
    fn a_malformed_item_id_or_a_negative_or_overflowing_quantity_is_refused() {
        assert!(Wanted::from_lines(&[line("a b", 1)]).is_err());
        assert!(Wanted::from_lines(&[line("a", -1)]).is_err());
        assert!(Wanted::from_lines(&[line("a", i64::MAX), line("a", 1)]).is_err());
    }

    #[test]
    fn enough_stock_for_every_line_is_no_shortfall() {
        let wanted = Wanted::from_lines(&[line("a", 2), line("b", 1)]).expect("valid");

        assert!(wanted.shortfall(&[("a".into(), 2), ("b".into(), 5)]).is_none());
    }

    #[test]
    fn a_missing_item_or_a_short_one_is_the_refusal() {
        let wanted = Wanted::from_lines(&[line("a", 2), line("b", 1)]).expect("valid");

        let missing = wanted.shortfall(&[("a".into(), 9)]);
        let short = wanted.shortfall(&[("a".into(), 1), ("b".into(), 5)]);

        assert!(matches!(missing, Some(StockError::ItemNotFound(item)) if item.as_str() == "b"));
        assert!(matches!(short, Some(StockError::InsufficientStock { item, .. }) if item.as_str() == "a"));
    }
}
