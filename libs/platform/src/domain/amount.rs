use super::input_error::{InputError, parse_bounded};

/// A non-negative 64-bit number of units: stock, credit, a price, a cost.
///
/// The contract says amounts are non-negative 64-bit integers; the database
/// stores them as `BIGINT`, so the upper bound is `i64::MAX`, not `u64::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Amount(i64);

impl Amount {
    pub const ZERO: Amount = Amount(0);

    /// Parses a path segment; `field` names it in the error (`"price"`,
    /// `"amount"`, …).
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, InputError> {
        parse_bounded(field, raw, 0, i64::MAX).map(Amount)
    }

    pub fn get(self) -> i64 {
        self.0
    }

    /// `None` when the product does not fit in an `Amount`.
    pub fn checked_mul(self, factor: i64) -> Option<Amount> {
        self.0.checked_mul(factor).and_then(|v| Amount::try_from(v).ok())
    }
}

impl TryFrom<i64> for Amount {
    type Error = InputError;

    fn try_from(value: i64) -> Result<Self, Self::Error> {
        if value < 0 {
            return Err(InputError::Negative {
                field: "amount",
                value: value.to_string(),
            });
        }
        Ok(Amount(value))
    }
}

impl std::fmt::Display for Amount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_and_the_largest_bigint_are_amounts() {
        assert_eq!(Amount::parse("amount", "0").map(Amount::get), Ok(0));
        assert_eq!(
            Amount::parse("amount", "9223372036854775807").map(Amount::get),
            Ok(i64::MAX)
        );
    }

    #[test]
    fn one_past_the_largest_bigint_is_not() {
        assert!(Amount::parse("amount", "9223372036854775808").is_err());
    }

    #[test]
    fn a_negative_value_cannot_become_an_amount() {
        assert!(Amount::try_from(-1).is_err());
        assert!(Amount::parse("amount", "-1").is_err());
    }

    #[test]
    fn multiplication_that_overflows_is_refused() {
        let price = Amount::try_from(i64::MAX / 2 + 1).expect("an amount");
        assert_eq!(price.checked_mul(2), None);
        assert_eq!(
            Amount::try_from(3)
                .expect("an amount")
                .checked_mul(4)
                .map(Amount::get),
            Some(12)
        );
    }
}
