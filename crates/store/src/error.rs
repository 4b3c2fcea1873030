//! The one error type of the store.

/// What can go wrong when reading or writing the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist in the acting organisation (or at all).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The thing has ended (a generation that finished or was cancelled takes no more events).
    #[error("the {0} has ended")]
    Ended(&'static str),
    /// A uniqueness rule would be broken, such as two projects with one name.
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// A limit on sizes or counts would be passed.
    #[error("{0}")]
    Limit(String),
    /// The URL names a database this build cannot use.
    #[error("unsupported database URL `{0}`: use sqlite://… or postgres://…")]
    UnsupportedUrl(String),
    /// The database could not be opened or reached.
    #[error("cannot open the database {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    /// A migration failed to apply.
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value does not have the shape the code expects.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Any other database failure.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl StoreError {
    /// Maps a driver error, turning unique-key violations into [`StoreError::Conflict`].
    pub(crate) fn from_sqlx(error: sqlx::Error, what: &'static str) -> Self {
        match &error {
            sqlx::Error::RowNotFound => StoreError::NotFound(what),
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
            _ => StoreError::Database(error),
        }
    }
}
