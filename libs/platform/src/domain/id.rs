use std::marker::PhantomData;

use super::input_error::InputError;

/// Names the entity an [`Id`] identifies, for error messages and so that an
/// item id cannot be passed where a user id is expected.
pub trait IdKind {
    const NAME: &'static str;
}

/// An opaque, non-empty identifier. `batch_init` creates `"0"`, `"1"`, …
/// while `create` makes UUIDs, so nothing about its shape is assumed beyond
/// its characters: those a URL path carries as they are (RFC 3986's
/// unreserved ones), which every id we make keeps to. The OpenAPI document
/// states the same rule (`docs/openapi.json`, schema `Id`).
#[derive(serde::Serialize)]
#[serde(transparent)]
pub struct Id<K> {
    value: String,
    #[serde(skip)]
    kind: PhantomData<fn() -> K>,
}

impl<K: IdKind> Id<K> {
    /// Longer ids are surely not ours; refusing them keeps junk out of indexes.
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, InputError> {
        if raw.is_empty() {
            return Err(InputError::EmptyId { kind: K::NAME });
        }
        if raw.len() > Self::MAX_LEN {
            return Err(InputError::IdTooLong {
                kind: K::NAME,
                len: raw.len(),
                max: Self::MAX_LEN,
            });
        }
        if !raw.bytes().all(is_unreserved) {
            return Err(InputError::IdCharacters {
                kind: K::NAME,
                value: raw.to_owned(),
            });
        }
        Ok(Self::from_trusted(raw.to_owned()))
    }

    /// For ids this service generated or read back from its own database.
    pub fn from_trusted(value: String) -> Self {
        Id {
            value,
            kind: PhantomData,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

// Derives would demand `K: Clone` etc., which marker types need not be.
impl<K> Clone for Id<K> {
    fn clone(&self) -> Self {
        Id {
            value: self.value.clone(),
            kind: PhantomData,
        }
    }
}

impl<K> PartialEq for Id<K> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<K> Eq for Id<K> {}

impl<K> std::fmt::Debug for Id<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.value.fmt(f)
    }
}

impl<K> std::fmt::Display for Id<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.value.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    enum Widget {}
    impl IdKind for Widget {
        const NAME: &'static str = "widget";
    }

    #[test]
    fn an_empty_id_is_refused_with_its_kind_named() {
        let error = Id::<Widget>::parse("").expect_err("refused");
        assert_eq!(error.to_string(), "widget id must not be empty");
    }

    #[test]
    fn batch_ids_and_uuids_are_ids() {
        assert!(Id::<Widget>::parse("0").is_ok());
        assert!(Id::<Widget>::parse("0b3f6c1e-2a8f-4a55-9d0c-6f1f4d7a2b11").is_ok());
    }

    #[test]
    fn an_id_with_a_character_a_url_would_escape_is_refused() {
        let error = Id::<Widget>::parse("a b").expect_err("refused");
        assert!(error.to_string().contains("\"a b\""), "{error}");
        assert!(Id::<Widget>::parse("a%2Fb").is_err());
    }

    #[test]
    fn an_overlong_id_is_refused() {
        assert!(Id::<Widget>::parse(&"x".repeat(129)).is_err());
    }
}
