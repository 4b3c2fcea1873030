//! What the binary's end-to-end tests share: the `quantumlayer` command pointed at a
//! directory, organisations with keys, processes that die with the test, server-sent events.

#![allow(dead_code, reason = "each test binary uses its own part")]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary with its data in `dir`, a port of its own and JSON logs; SQLite unless
/// `database_url` names another database.
pub fn quantumlayer(dir: &Path, database_url: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quantumlayer"));
    command
        .current_dir(dir)
        .env_remove("QL_DATABASE_URL")
        .env("QL_DATA_DIR", dir.join("data"))
        .env("QL_SITE_ROOT", dir.join("site"))
        .env("QL_LISTEN", "127.0.0.1:0")
        .env("QL_LOG_FORMAT", "json")
        .env("NO_COLOR", "1");
    if let Some(url) = database_url {
        command.env("QL_DATABASE_URL", url);
    }
    command
}

/// Runs a command line to success and returns its trimmed standard output.
pub fn run(mut command: Command) -> String {
    let output = command.output().expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Creates an organisation and an owner key with the command line: `(slug, key)`.
pub fn org_with_key(dir: &Path, database_url: Option<&str>, name: &str) -> (String, String) {
    let mut create = quantumlayer(dir, database_url);
    create.args(["orgs", "create", name]);
    let slug = run(create);
    let mut key = quantumlayer(dir, database_url);
    key.args(["keys", "create", "--org", &slug, "--name", "api"]);
    (slug.clone(), run(key))
}

/// A child process killed (SIGKILL) when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a web process and waits for its `listening on` line: the process and its base URL.
pub fn start_server(mut command: Command) -> (Running, String) {
    let mut child = command.stderr(Stdio::piped()).spawn().expect("spawn");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    let address = loop {
        assert!(Instant::now() < deadline, "no `listening on` line within 60 s");
        let line = lines.next().expect("server exited early").expect("line");
        let event: Value = serde_json::from_str(&line).unwrap_or_default();
        if let Some(rest) =
            event["message"].as_str().and_then(|m| m.strip_prefix("listening on http://"))
        {
            break rest.to_owned();
        }
    };
    // Keep draining the log so the server never blocks on a full pipe; its warnings and
    // errors go with the test's output, shown when it fails.
    std::thread::spawn(move || {
        for line in lines {
            // A line that is not UTF-8 is skipped, not the end of draining: a full pipe
            // would stop the server.
            let line = match line {
                Ok(line) => line,
                Err(error) if error.kind() == std::io::ErrorKind::InvalidData => continue,
                Err(_) => break,
            };
            let event: Value = serde_json::from_str(&line).unwrap_or_default();
            if matches!(event["level"].as_str(), Some("WARN" | "ERROR")) {
                eprintln!("server: {line}");
            }
        }
    });
    (running, format!("http://{address}"))
}

/// An HTTP client for the tests: a request (event streams included) that takes longer than
/// ten minutes fails the test instead of holding it up.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(600)).build().expect("client")
}

/// One server-sent event: its number, kind and JSON data.
pub type SseEvent = (i64, String, Value);

/// The events in a body of server-sent events (comments skipped).
pub fn parse_sse(body: &str) -> Vec<SseEvent> {
    body.split("\n\n").filter_map(parse_sse_block).collect()
}

/// One `id:`/`event:`/`data:` block; `None` for a comment or keep-alive.
pub fn parse_sse_block(block: &str) -> Option<SseEvent> {
    if block.trim().is_empty() || block.starts_with(':') {
        return None;
    }
    let field = |name: &str| {
        block
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name}:")))
            .map(|value| value.trim_start().to_owned())
            .unwrap_or_default()
    };
    let id = field("id").parse().expect("numbered");
    Some((id, field("event"), serde_json::from_str(&field("data")).expect("JSON data")))
}

/// A private PostgreSQL schema on `QL_TEST_POSTGRES_URL` for one test: `url` connects to
/// it; [`PgSchema::finish`] drops it once the test's processes have stopped.
pub struct PgSchema {
    pub url: String,
    server: String,
    schema: String,
}

impl PgSchema {
    /// Drops the schema and everything in it.
    pub async fn finish(self) {
        let admin =
            sqlx::PgPool::connect(&self.server).await.expect("QL_TEST_POSTGRES_URL reachable");
        let drop = format!("DROP SCHEMA {} CASCADE", self.schema);
        sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(&admin).await.expect("drop schema");
        admin.close().await;
    }
}

/// A new [`PgSchema`] named after `prefix`; `None` when no PostgreSQL is configured.
pub async fn postgres_schema(prefix: &str) -> Option<PgSchema> {
    let server = std::env::var("QL_TEST_POSTGRES_URL").ok()?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let schema = format!("{prefix}_{nanos:x}_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&server).await.expect("QL_TEST_POSTGRES_URL reachable");
    // The name is made above of a fixed prefix and hex digits; identifiers cannot be bound.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .expect("schema");
    admin.close().await;
    let separator = if server.contains('?') { '&' } else { '?' };
    let url = format!("{server}{separator}options=-c%20search_path%3D{schema},public");
    Some(PgSchema { url, server, schema })
}
