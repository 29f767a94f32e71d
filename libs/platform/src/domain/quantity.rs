use super::input_error::{InputError, parse_bounded};

/// How many units of an item an order line asks for: at least one, since a
/// line of zero units would change nothing and most likely hides a client bug.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Quantity(i64);

impl Quantity {
    pub fn parse(raw: &str) -> Result<Self, InputError> {
        parse_bounded("quantity", raw, 1, i64::MAX).map(Quantity)
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_not_a_quantity() {
        assert!(Quantity::parse("0").is_err());
        assert_eq!(Quantity::parse("1").map(Quantity::get), Ok(1));
    }
}
