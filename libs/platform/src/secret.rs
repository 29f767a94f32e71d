//! Connection URLs that may carry a password.
//!
//! Settings are printed with `{:?}` when someone debugs a deployment, and a
//! URL is the most useful thing to see there: which host, port, user and
//! database. Only the password must not be seen, so it alone is replaced.
use std::fmt;

/// What stands in for a password in anything printed.
const MASK: &str = "***";

/// A URL from the environment whose `Debug` and `Display` show it with its
/// password replaced by `***`; the code that connects asks for the real one
/// with [`SecretUrl::expose_secret`], which makes each such use easy to find.
#[derive(Clone)]
pub struct SecretUrl(String);

impl SecretUrl {
    /// The URL as configured, password included: for the driver, never for
    /// a log line or an error message.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl From<String> for SecretUrl {
    fn from(url: String) -> Self {
        SecretUrl(url)
    }
}

impl From<&str> for SecretUrl {
    fn from(url: &str) -> Self {
        SecretUrl(url.to_owned())
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&redact(&self.0), f)
    }
}

/// `url` with the password of its user info, and the value of any query
/// parameter named like a password (sqlx reads `?password=`), replaced by
/// `***`; everything else as it was written. Parsed by hand, not with the
/// `url` crate, because a MongoDB URL may list several hosts, which that
/// crate refuses. Text that is not `scheme://...` is hidden whole: where it
/// keeps a password cannot be known.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return MASK.to_owned();
    };
    // The user info ends at the last `@` before the path, so a password with
    // a raw `@` (which drivers accept) is hidden whole.
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!(
            "{scheme}://{}@{}",
            redact_user_info(&rest[..at]),
            redact_query(&rest[at + 1..])
        ),
        None => format!("{scheme}://{}", redact_query(rest)),
    }
}

fn redact_user_info(user_info: &str) -> String {
    match user_info.split_once(':') {
        Some((user, _password)) => format!("{user}:{MASK}"),
        None => user_info.to_owned(),
    }
}

/// `hosts_on` (hosts, path and query) with the values of password
/// parameters masked.
fn redact_query(hosts_on: &str) -> String {
    let Some((before, query)) = hosts_on.split_once('?') else {
        return hosts_on.to_owned();
    };
    let pairs: Vec<String> = query.split('&').map(redact_pair).collect();
    format!("{before}?{}", pairs.join("&"))
}

fn redact_pair(pair: &str) -> String {
    match pair.split_once('=') {
        Some((key, _value)) if key.to_ascii_lowercase().contains("password") => format!("{key}={MASK}"),
        _ => pair.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cret-pw";

    #[test]
    fn the_password_is_masked_and_the_rest_kept() {
        let url = format!("amqp://app:{SECRET}@rabbit.internal:5672/%2f?heartbeat=10");

        assert_eq!(
            redact(&url),
            "amqp://app:***@rabbit.internal:5672/%2f?heartbeat=10"
        );
    }

    #[test]
    fn a_password_holding_an_at_sign_is_masked_whole() {
        let url = format!("postgres://app:{SECRET}@x@db.internal:5432/shop");

        assert_eq!(redact(&url), "postgres://app:***@db.internal:5432/shop");
    }

    #[test]
    fn a_password_given_as_a_query_parameter_is_masked() {
        let url = format!("postgres://app@db.internal/shop?sslmode=require&password={SECRET}");

        assert_eq!(
            redact(&url),
            "postgres://app@db.internal/shop?sslmode=require&password=***"
        );
    }

    #[test]
    fn a_query_password_is_masked_when_the_url_has_no_path() {
        let url = format!("postgres://db.internal?password={SECRET}");

        assert_eq!(redact(&url), "postgres://db.internal?password=***");
    }

    #[test]
    fn a_mongodb_url_with_several_hosts_keeps_them_all() {
        let url = format!("mongodb://admin:{SECRET}@m1:27017,m2:27017/order_db?replicaSet=rs0");

        assert_eq!(
            redact(&url),
            "mongodb://admin:***@m1:27017,m2:27017/order_db?replicaSet=rs0"
        );
    }

    #[test]
    fn a_url_without_a_password_is_shown_as_it_is() {
        for url in [
            "mongodb://127.0.0.1:27017",
            "http://gateway:8000",
            "amqp://guest@rabbit:5672/%2f",
            "mongodb://db/orders?user=a@b",
        ] {
            assert_eq!(redact(url), url);
        }
    }

    #[test]
    fn text_that_is_not_a_url_is_hidden_whole() {
        assert_eq!(redact(&format!("app:{SECRET}@db.internal")), "***");
    }

    #[test]
    fn debug_and_display_mask_the_password_and_show_the_host() {
        let url = SecretUrl::from(format!("amqp://app:{SECRET}@rabbit.internal:5672/%2f"));

        for printed in [format!("{url:?}"), url.to_string()] {
            assert!(!printed.contains(SECRET), "{printed}");
            assert!(printed.contains("app:***@rabbit.internal:5672"), "{printed}");
        }
    }

    #[test]
    fn the_connecting_code_gets_the_real_url() {
        let configured = format!("amqp://app:{SECRET}@rabbit.internal:5672/%2f");

        let url = SecretUrl::from(configured.clone());

        assert_eq!(url.expose_secret(), configured);
    }
}
