//! The dashboard's usage chart read against an organisation's history: 14 days of totals read
//! from `usage_daily` after 1,000 to 300,000 recorded calls, on SQLite (and PostgreSQL when
//! `QL_TEST_POSTGRES_URL` is set). The read should not grow with the history. Beside it, the
//! same totals grouped from `usage_records` (how the chart was read before `usage_daily`),
//! and what a batch of the accounting task costs to write with the day totals kept.
//!
//!     cargo bench -p ql-store --bench usage_daily

#![expect(clippy::expect_used, reason = "a benchmark stops at the first broken step")]
#![expect(clippy::print_stdout, reason = "a benchmark prints its table")]

use std::time::{Duration, Instant};

use ql_store::{DAY_MILLIS, NewUsage, OrgId, Store};

/// Calls recorded before each measurement, cumulatively.
const HISTORY: [usize; 3] = [1_000, 100_000, 300_000];
/// Records per batch, as the gateway's accounting task writes them.
const BATCH: usize = 500;
/// Chart reads timed at each history size.
const READS: usize = 300;
/// Reads of the grouped baseline, which is slow with a long history.
const GROUPED_READS: usize = 20;
/// The chart's days.
const DAYS: i64 = 14;

fn usage(org: &OrgId, n: usize, today: i64) -> NewUsage {
    let spread = (n as i64 % DAYS) * DAY_MILLIS + (n as i64 % 86_000) * 1_000;
    NewUsage {
        organization_id: org.clone(),
        api_key_id: None,
        user_id: None,
        route: "fast".into(),
        provider: "openai".into(),
        model: "gpt-4o-mini".into(),
        prompt_tokens: 100,
        completion_tokens: 20,
        cost_micros: 30,
        latency_ms: 120,
        ttft_ms: None,
        status: 200,
        cache_hit: false,
        streamed: false,
        created_at: (today - DAYS + 1) * DAY_MILLIS + spread,
    }
}

/// The chart's totals grouped from every record, as before the day totals were kept.
const GROUPED: &str = "SELECT CAST(created_at / 86400000 AS BIGINT) AS day, COUNT(*) AS calls \
     FROM usage_records WHERE organization_id = $1 AND created_at >= $2 \
     GROUP BY created_at / 86400000 ORDER BY day";

/// A pool of its own for the baseline query, which the store does not offer.
enum Baseline {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Baseline {
    async fn connect(url: &str) -> Self {
        if url.starts_with("postgres") {
            Self::Postgres(sqlx::PgPool::connect(url).await.expect("pool"))
        } else {
            Self::Sqlite(sqlx::SqlitePool::connect(url).await.expect("pool"))
        }
    }

    /// The median time of `GROUPED_READS` runs of the grouped query.
    async fn grouped_read(&self, org: &OrgId, since: i64) -> Duration {
        let mut times = Vec::with_capacity(GROUPED_READS);
        for _ in 0..GROUPED_READS {
            let started = Instant::now();
            let rows = match self {
                Self::Sqlite(pool) => sqlx::query(GROUPED)
                    .bind(org)
                    .bind(since)
                    .fetch_all(pool)
                    .await
                    .map(|r| r.len()),
                Self::Postgres(pool) => sqlx::query(GROUPED)
                    .bind(org)
                    .bind(since)
                    .fetch_all(pool)
                    .await
                    .map(|r| r.len()),
            };
            times.push(started.elapsed());
            assert!(rows.expect("grouped") <= DAYS as usize);
        }
        times.sort();
        times[GROUPED_READS / 2]
    }
}

async fn run(backend: &str, url: &str) {
    let store = Store::connect(url).await.expect("store");
    let baseline = Baseline::connect(url).await;
    let user = store.accounts.create_user(None, "Bench").await.expect("user");
    let slug = format!("bench-{}", uuid_like());
    let org = store.accounts.create_organization(&slug, "Bench", &user).await.expect("org");
    let today = ql_store::now_millis().div_euclid(DAY_MILLIS);
    let mut recorded = 0;
    for history in HISTORY {
        let started = Instant::now();
        let mut batches = 0;
        while recorded < history {
            let batch: Vec<NewUsage> = (recorded..(recorded + BATCH).min(history))
                .map(|n| usage(&org, n, today))
                .collect();
            store.usage.record_batch(&batch).await.expect("batch");
            recorded += batch.len();
            batches += 1;
        }
        let per_batch = started.elapsed() / batches.max(1);
        let mut reads: Vec<Duration> = Vec::with_capacity(READS);
        for _ in 0..READS {
            let started = Instant::now();
            let days = store.usage.daily(&org, today - DAYS + 1).await.expect("daily");
            reads.push(started.elapsed());
            assert_eq!(days.iter().map(|d| d.calls).sum::<i64>(), history as i64);
        }
        reads.sort();
        let grouped = baseline.grouped_read(&org, (today - DAYS + 1) * DAY_MILLIS).await;
        let micros = |d: Duration| d.as_secs_f64() * 1e6;
        println!(
            "| {backend} | {history} | {:.0} | {:.0} | {:.0} | {:.2} |",
            micros(reads[READS / 2]),
            micros(reads[READS * 99 / 100]),
            micros(grouped),
            per_batch.as_secs_f64() * 1e3,
        );
    }
}

/// A slug no earlier run of this benchmark used (PostgreSQL's database is kept).
fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{nanos:x}")
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "| database | calls recorded | chart read p50 µs | p99 µs | grouped from records p50 µs | write ms per {BATCH}-call batch |"
    );
    println!("|---|---|---|---|---|---|");
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    runtime.block_on(run("SQLite", &sqlite));
    if let Ok(url) = std::env::var("QL_TEST_POSTGRES_URL") {
        runtime.block_on(run("PostgreSQL", &url));
    }
}
