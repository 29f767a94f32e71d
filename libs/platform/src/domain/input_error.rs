/// Why a value from a request could not become a domain value. The message is
/// meant for the client: it names the field, repeats what was sent, and says
/// what would have been accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("{field} must be a whole number, got {value:?}")]
    NotANumber { field: &'static str, value: String },
    #[error("{field} must not be negative, got {value}")]
    Negative { field: &'static str, value: String },
    #[error("{field} {value} is out of range: it must be between {min} and {max}")]
    OutOfRange {
        field: &'static str,
        value: String,
        min: i64,
        max: i64,
    },
    #[error("{kind} id must not be empty")]
    EmptyId { kind: &'static str },
    #[error("{kind} id is {len} bytes long; the limit is {max}")]
    IdTooLong {
        kind: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{kind} id {value:?} has a character other than letters, digits and \"-._~\"")]
    IdCharacters { kind: &'static str, value: String },
}

/// Parses a decimal integer path segment into an `i64` within `min..=max`.
///
/// Only ASCII digits with an optional leading minus are accepted: `+5`, `5.0`,
/// ` 5` and `1e3` are not whole numbers as the contract writes them.
pub(crate) fn parse_bounded(field: &'static str, raw: &str, min: i64, max: i64) -> Result<i64, InputError> {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InputError::NotANumber {
            field,
            value: raw.to_owned(),
        });
    }
    if raw.starts_with('-') && digits.bytes().any(|b| b != b'0') && min >= 0 {
        return Err(InputError::Negative {
            field,
            value: raw.to_owned(),
        });
    }
    let out_of_range = || InputError::OutOfRange {
        field,
        value: raw.to_owned(),
        min,
        max,
    };
    let value: i64 = raw.parse().map_err(|_| out_of_range())?;
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(out_of_range())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_digits_within_bounds() {
        assert_eq!(parse_bounded("n", "0", 0, 10), Ok(0));
        assert_eq!(parse_bounded("n", "10", 0, 10), Ok(10));
        assert_eq!(parse_bounded("n", "-0", 0, 10), Ok(0));
    }

    #[test]
    fn rejects_what_is_not_a_plain_integer() {
        for raw in ["", "-", "+5", "5.0", " 5", "1e3", "abc", "0x10", "٣"] {
            assert!(
                matches!(parse_bounded("n", raw, 0, 10), Err(InputError::NotANumber { .. })),
                "{raw:?} was accepted"
            );
        }
    }

    #[test]
    fn tells_negative_apart_from_out_of_range() {
        assert!(matches!(
            parse_bounded("n", "-1", 0, 10),
            Err(InputError::Negative { .. })
        ));
        assert!(matches!(
            parse_bounded("n", "11", 0, 10),
            Err(InputError::OutOfRange { .. })
        ));
        assert!(matches!(
            parse_bounded("n", "99999999999999999999", 0, i64::MAX),
            Err(InputError::OutOfRange { .. })
        ));
    }

    #[test]
    fn the_message_names_field_and_value() {
        let error = parse_bounded("amount", "-5", 0, i64::MAX).expect_err("refused");
        assert_eq!(error.to_string(), "amount must not be negative, got -5");
    }
}
