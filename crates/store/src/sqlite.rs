//! The SQLite adapter: the embedded default, one file in the data directory.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::sql::impl_sql_store;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// Every aggregate on one SQLite database.
pub(crate) struct SqliteStore {
    pub(crate) pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the file named by a `sqlite://` URL and migrates it.
    pub(crate) async fn connect(url: &str) -> crate::Result<Self> {
        let connect_error = |source| crate::StoreError::Connect { url: url.to_owned(), source };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(connect_error)?
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(connect_error)?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }
}

impl SqliteStore {
    /// Takes the write lock at once: a transaction that reads and then writes would otherwise fail
    /// with `SQLITE_BUSY` (no waiting) when another connection wrote in between.
    const BEGIN: &'static str = "BEGIN IMMEDIATE";

    /// Taken inside the admission transaction (SQLite runs one writer at a time anyway).
    const ADMISSION_LOCK: Option<&'static str> = None;
}

impl_sql_store!(SqliteStore, sqlx::Sqlite);
