//! Reading typed settings from environment variables.
//!
//! Every setting has a default that works on a developer machine, so a
//! service starts with no configuration at all; deployments override what
//! they need. A value that is set but does not parse is an error at start-up,
//! never a silent fallback to the default.
use std::str::FromStr;

/// A setting that was present in the environment but could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}={value:?} is invalid: {reason}")]
pub struct SettingError {
    pub name: String,
    pub value: String,
    pub reason: String,
}

/// Reads `name` from the environment, or returns `default` when it is unset
/// or empty.
pub fn env_or<T>(name: &str, default: T) -> Result<T, SettingError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    Ok(env_opt(name)?.unwrap_or(default))
}

/// Reads `name` from the environment: `None` when it is unset or empty, for
/// a setting whose absence means something of its own.
pub fn env_opt<T>(name: &str) -> Result<Option<T>, SettingError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => {
            value.trim().parse().map(Some).map_err(|e: T::Err| SettingError {
                name: name.to_owned(),
                value,
                reason: e.to_string(),
            })
        }
        _ => Ok(None),
    }
}

/// Like [`env_or`] for strings, which cannot fail to parse.
pub fn env_string(name: &str, default: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value.trim().to_owned(),
        _ => default.to_owned(),
    }
}
