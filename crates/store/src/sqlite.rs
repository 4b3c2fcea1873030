//! The SQLite adapter: the embedded default, one file in the data directory.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::sql::impl_sql_store;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// Prepared statements each of the store's connections keeps (sqlx's default is 100); more
/// than the store has, so a page's queries are parsed once per connection, not per call.
const STATEMENT_CACHE: usize = 512;

/// Every aggregate on one SQLite database.
pub(crate) struct SqliteStore {
    /// The store's own connections, which keep their prepared statements: every query of the
    /// store names its columns, and its schema changes only by [`MIGRATOR`] before first use.
    pub(crate) pool: SqlitePool,
    /// Connections for what shares the database (the job queue, the event watch), with no
    /// prepared-statement cache: sqlx keeps a cached statement's column list from when it was
    /// prepared, and a `RETURNING *` of apalis's queue prepared before its migration changed
    /// the table then read past the end of the row and killed the connection's thread.
    pub(crate) shared: SqlitePool,
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
            // With a write-ahead log, NORMAL syncs at checkpoints rather than at every commit:
            // a commit survives the process dying (what durable workflows need); only the
            // machine losing power can take the last commits with it.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        let pool_of = |options: SqliteConnectOptions| {
            SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
        };
        let pool = pool_of(options.clone().statement_cache_capacity(STATEMENT_CACHE))
            .await
            .map_err(connect_error)?;
        MIGRATOR.run(&pool).await?;
        let shared = pool_of(options.statement_cache_capacity(0)).await.map_err(connect_error)?;
        Ok(Self { pool, shared })
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

/// Where a process's watch over SQLite event appends stands: the last row it has seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventCursor(i64);

/// How many appended events one look at the tail reads at most.
const EVENT_TAIL_BATCH: i64 = 1_000;

/// The cursor at the current end of the events: a watch from here sees only new appends.
pub async fn event_tail_end(pool: &SqlitePool) -> crate::Result<EventCursor> {
    let end: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(rowid), 0) FROM generation_events")
        .fetch_one(pool)
        .await
        .map_err(crate::StoreError::Database)?;
    Ok(EventCursor(end))
}

/// The generations with events appended (by any process) after the cursor, each once, and the
/// cursor after them. SQLite has no `NOTIFY`: a process that serves event streams calls this
/// every few milliseconds instead, one indexed read however many streams it serves. Across
/// organisations by design, like a `NOTIFY`: it yields only ids, to wake this process's
/// streams, which then read events through the organisation-scoped `events_since`.
pub async fn events_appended_after(
    pool: &SqlitePool,
    cursor: EventCursor,
) -> crate::Result<(Vec<crate::GenerationId>, EventCursor)> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT rowid, generation_id FROM generation_events WHERE rowid > ? ORDER BY rowid LIMIT ?",
    )
    .bind(cursor.0)
    .bind(EVENT_TAIL_BATCH)
    .fetch_all(pool)
    .await
    .map_err(crate::StoreError::Database)?;
    let next = rows.last().map_or(cursor, |(rowid, _)| EventCursor(*rowid));
    let distinct: std::collections::BTreeSet<String> = rows.into_iter().map(|(_, id)| id).collect();
    Ok((distinct.into_iter().map(crate::GenerationId).collect(), next))
}
crate::file_versions::impl_file_version_store!(SqliteStore);
