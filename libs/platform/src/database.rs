//! PostgreSQL: settings, start-up (create the database, run migrations) and
//! the one place where driver errors are classified.
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

use crate::secret::SecretUrl;
use crate::settings::{SettingError, env_or, env_string};

/// A pooled connection idle for this long is pinged before it is handed out.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// Where a service's database lives and how many connections it may hold.
#[derive(Clone)]
pub struct DatabaseSettings {
    /// Parsed once from `DATABASE_URL`. Their own `Debug` shows the password,
    /// so this struct's `Debug` shows them as a URL with the password masked.
    pub options: PgConnectOptions,
    /// Two replicas of three services share one server whose default limit is
    /// 100 connections: 10 each (plus a listener or two) leaves room for the
    /// tests and `psql`.
    pub max_connections: u32,
    /// Connections opened at start-up and kept open. A connection opened in
    /// a burst costs a host lookup and a login just when requests queue for
    /// it; where lookups are slow (podman's DNS took seconds at times, and
    /// requests timed out waiting for the pool) a warm pool needs none.
    pub min_connections: u32,
    /// How long a request waits for a free connection before it fails with
    /// 503 instead of hanging.
    pub acquire_timeout: Duration,
}

impl DatabaseSettings {
    /// `DATABASE_URL`, `DATABASE_MAX_CONNECTIONS` (10),
    /// `DATABASE_MIN_CONNECTIONS` (0, at most the maximum),
    /// `DATABASE_ACQUIRE_TIMEOUT_MS` (5000).
    ///
    /// Without `DATABASE_URL`: the local server, as the service's own role
    /// `webshop_<service>` (no password in code) on `<service>_db`. A
    /// deployment that forgets the variable then fails to log in instead of
    /// falling back to a superuser with a well-known password; `make up` and
    /// every deployment pass their own.
    pub fn from_env(service: &str) -> Result<Self, SettingError> {
        let url = env_string(
            "DATABASE_URL",
            &format!("postgres://webshop_{service}@127.0.0.1:5432/{service}_db"),
        );
        Self::from_url("DATABASE_URL", &url)
    }

    /// `url`, read from the variable `name`, with the pool settings of
    /// [`DatabaseSettings::from_env`].
    pub fn from_url(name: &str, url: &str) -> Result<Self, SettingError> {
        let options = PgConnectOptions::from_str(url).map_err(|e| SettingError {
            name: name.into(),
            value: "<hidden: may hold a password>".into(),
            reason: e.to_string(),
        })?;
        let max_connections = env_or("DATABASE_MAX_CONNECTIONS", 10)?;
        let min_connections = within_pool(env_or("DATABASE_MIN_CONNECTIONS", 0)?, max_connections)?;
        Ok(DatabaseSettings {
            options: generic_plans(options).log_statements(tracing::log::LevelFilter::Trace),
            max_connections,
            min_connections,
            acquire_timeout: Duration::from_millis(env_or("DATABASE_ACQUIRE_TIMEOUT_MS", 5000)?),
        })
    }

    pub fn database_name(&self) -> &str {
        self.options.get_database().unwrap_or("postgres")
    }

    /// The same server under another database name; tests use it to get a
    /// fresh database each.
    pub fn with_database(mut self, name: &str) -> Self {
        self.options = self.options.database(name);
        self
    }
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = SecretUrl::from(self.options.to_url_lossy().to_string());
        f.debug_struct("DatabaseSettings")
            .field("url", &url)
            .field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish()
    }
}

/// sqlx would take a minimum above the maximum and open connections it may
/// not hold; a deployment that sets the two apart is told which is wrong.
fn within_pool(min: u32, max: u32) -> Result<u32, SettingError> {
    if min > max {
        return Err(SettingError {
            name: "DATABASE_MIN_CONNECTIONS".into(),
            value: min.to_string(),
            reason: format!("must not exceed DATABASE_MAX_CONNECTIONS ({max})"),
        });
    }
    Ok(min)
}

/// Every statement of the services is a key lookup or a write of a few rows,
/// prepared once per connection, yet PostgreSQL kept planning some of them
/// anew on each run (custom plans, for their array parameters): 9 % of its
/// CPU at 8 clients. With generic plans its CPU per checkout fell 8 % at 8
/// clients and 13 % at 32 (README, "Where the time goes"). A URL whose own
/// `options` set `plan_cache_mode` keeps its choice.
fn generic_plans(options: PgConnectOptions) -> PgConnectOptions {
    if options
        .get_options()
        .is_some_and(|set| set.contains("plan_cache_mode"))
    {
        return options;
    }
    options.options([("plan_cache_mode", "force_generic_plan")])
}

/// Why a service could not get its database ready at start-up.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("could not create database {name:?}")]
    CreateDatabase {
        name: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("could not connect to database {name:?}")]
    Connect {
        name: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("could not migrate database {name:?}")]
    Migrate {
        name: String,
        #[source]
        source: MigrateError,
    },
}

/// Creates the database when it is missing, opens a pool and applies the
/// embedded migrations of the service and of the libraries whose tables it
/// holds (outbox, inbox), merged by version into one history. Safe to run
/// from several replicas at once: a concurrent `CREATE DATABASE` is
/// recognised, and sqlx serialises migrations with an advisory lock.
pub async fn connect_and_migrate(
    settings: &DatabaseSettings,
    migrators: &[&Migrator],
) -> Result<PgPool, StartupError> {
    let migrator = Migrator::with_migrations(
        migrators
            .iter()
            .flat_map(|m| m.migrations.iter().cloned())
            .collect(),
    );
    let name = settings.database_name().to_owned();
    create_database_if_missing(settings)
        .await
        .map_err(|source| StartupError::CreateDatabase {
            name: name.clone(),
            source,
        })?;
    let pool = PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .min_connections(settings.min_connections)
        .acquire_timeout(settings.acquire_timeout)
        // A ping on every acquire was a round trip per pool use: a third of
        // the saga's round trips. Under load connections are never idle
        // long, so only one that rested (and may have outlived a database
        // restart) is checked before use.
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for >= IDLE_BEFORE_PING {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_with(settings.options.clone())
        .await
        .map_err(|source| StartupError::Connect {
            name: name.clone(),
            source,
        })?;
    migrator
        .run(&pool)
        .await
        .map_err(|source| StartupError::Migrate { name, source })?;
    Ok(pool)
}

async fn create_database_if_missing(settings: &DatabaseSettings) -> Result<(), sqlx::Error> {
    let name = settings.database_name();
    let mut maintenance = PgConnection::connect_with(&settings.options.clone().database("postgres")).await?;
    let exists = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS "exists!""#,
        name
    )
    .fetch_one(&mut maintenance)
    .await?;
    if !exists {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        let created = sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {quoted}")))
            .execute(&mut maintenance)
            .await;
        match created {
            // Another replica created it between our check and our CREATE.
            Err(sqlx::Error::Database(e)) if matches!(e.code().as_deref(), Some("42P04" | "23505")) => {}
            other => {
                other?;
            }
        }
    }
    maintenance.close().await
}

/// A database error, classified by what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A `CHECK` constraint refused the change, e.g. stock below zero. The
    /// constraint's name tells the service which business rule it was.
    #[error("constraint {constraint} refused the change")]
    ConstraintViolated { constraint: String },
    #[error("a row with this key already exists")]
    Duplicate,
    /// Arithmetic left the `BIGINT` range, e.g. stock beyond `i64::MAX`.
    #[error("a number would leave the 64-bit range")]
    OutOfRange,
    /// Serialization failure or deadlock: the transaction may be retried.
    #[error("the transaction conflicted with a concurrent one")]
    Conflict,
    /// Anything else, including an unreachable server: a fault of ours.
    #[error("database failure")]
    Unavailable(#[source] sqlx::Error),
}

impl From<sqlx::Error> for DbError {
    fn from(error: sqlx::Error) -> Self {
        let sqlx::Error::Database(db) = &error else {
            return DbError::Unavailable(error);
        };
        match db.code().as_deref() {
            Some("23514") => DbError::ConstraintViolated {
                constraint: db.constraint().unwrap_or_default().to_owned(),
            },
            Some("23505") => DbError::Duplicate,
            Some("22003") => DbError::OutOfRange,
            Some("40001" | "40P01") => DbError::Conflict,
            _ => DbError::Unavailable(error),
        }
    }
}

/// True when a trivial query answers within `timeout`: what health checks ask.
pub async fn is_reachable(pool: &PgPool, timeout: Duration) -> bool {
    let ping = sqlx::query_scalar!("SELECT 1 AS one").fetch_one(pool);
    matches!(tokio::time::timeout(timeout, ping).await, Ok(Ok(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cret-pw";

    fn settings_for(url: &str) -> DatabaseSettings {
        let mut settings = DatabaseSettings::from_env("shop").expect("settings from the environment");
        settings.options = PgConnectOptions::from_str(url).expect("a valid URL");
        settings
    }

    #[test]
    fn debug_masks_the_password_and_shows_the_server() {
        for url in [
            format!("postgres://app:{SECRET}@db.internal:5433/shop"),
            format!("postgres://app@db.internal:5433/shop?password={SECRET}"),
        ] {
            let printed = format!("{:?}", settings_for(&url));

            // `s3cret` also rules out the percent-encoded `s3cret%2Dpw`.
            assert!(!printed.contains("s3cret"), "{printed}");
            assert!(printed.contains("app:***@db.internal:5433/shop"), "{printed}");
        }
    }

    #[test]
    fn connections_plan_generically_unless_the_url_says_otherwise() {
        let default = DatabaseSettings::from_url("DATABASE_URL", "postgres://app@db.internal/shop")
            .expect("a valid URL");
        let own = DatabaseSettings::from_url(
            "DATABASE_URL",
            "postgres://app@db.internal/shop?options=-c%20plan_cache_mode%3Dauto",
        )
        .expect("a valid URL");

        assert_eq!(
            default.options.get_options(),
            Some("-c plan_cache_mode=force_generic_plan")
        );
        assert_eq!(own.options.get_options(), Some("-c plan_cache_mode=auto"));
    }

    #[test]
    fn a_minimum_pool_above_the_maximum_is_refused_by_name() {
        assert_eq!(within_pool(10, 10).expect("equal bounds"), 10);

        let error = within_pool(11, 10).expect_err("a minimum above the maximum");

        assert_eq!(error.name, "DATABASE_MIN_CONNECTIONS");
        assert!(error.reason.contains("DATABASE_MAX_CONNECTIONS (10)"), "{error}");
    }

    #[test]
    fn the_connection_options_keep_the_real_password() {
        let settings = settings_for(&format!("postgres://app:{SECRET}@db.internal:5433/shop"));

        let url = settings.with_database("other").options.to_url_lossy();

        // sqlx percent-encodes every character that is not alphanumeric.
        assert_eq!(url.password(), Some("s3cret%2Dpw"));
    }
}
