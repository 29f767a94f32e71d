use super::input_error::{InputError, parse_bounded};

/// How many rows one `batch_init` call creates.
///
/// Bounded so that a typo (one zero too many) is a clear 400 instead of a
/// request that holds a database transaction open for minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSize(i64);

impl BatchSize {
    pub const MAX: i64 = 10_000_000;

    /// `min` is 0 for the number of rows to create, 1 for a range rows are
    /// drawn from (there must be at least one item to put in an order).
    pub fn parse(field: &'static str, raw: &str, min: i64) -> Result<Self, InputError> {
        parse_bounded(field, raw, min, Self::MAX).map(BatchSize)
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_inclusive() {
        assert!(BatchSize::parse("n", "10000000", 0).is_ok());
        assert!(BatchSize::parse("n", "10000001", 0).is_err());
        assert!(BatchSize::parse("n_items", "0", 1).is_err());
    }
}
