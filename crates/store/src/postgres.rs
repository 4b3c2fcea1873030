//! The PostgreSQL adapter, for several replicas sharing one database.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::sql::impl_sql_store;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// Connections one process opens at most.
const MAX_CONNECTIONS: u32 = 16;

/// Every aggregate on one PostgreSQL database.
pub(crate) struct PostgresStore {
    pub(crate) pool: PgPool,
}

impl PostgresStore {
    /// Connects to a `postgres://` URL and migrates the database, keeping `warm` connections
    /// open once made (see [`crate::Store::connect_for_serving`]).
    pub(crate) async fn connect(url: &str, warm: u32) -> crate::Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|source| crate::StoreError::Connect { url: crate::redact_url(url), source })?;
        Self::connect_with(options, url, warm).await
    }

    /// Connects with explicit options (tests use this to pin a private schema).
    pub(crate) async fn connect_with(
        options: PgConnectOptions,
        url: &str,
        warm: u32,
    ) -> crate::Result<Self> {
        let pool = PgPoolOptions::new()
            .min_connections(warm.min(MAX_CONNECTIONS))
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|source| crate::StoreError::Connect { url: crate::redact_url(url), source })?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }
}

impl PostgresStore {
    /// A plain transaction.
    const BEGIN: &'static str = "BEGIN";

    /// Taken inside the admission transaction: admissions run one at a time.
    const ADMISSION_LOCK: Option<&'static str> = Some("SELECT pg_advisory_xact_lock(7215001)");
}

impl_sql_store!(PostgresStore, sqlx::Postgres);
crate::file_versions::impl_file_version_store!(PostgresStore);
