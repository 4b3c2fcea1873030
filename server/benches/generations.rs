//! Orchestrator throughput and event latency on the real binary, printed as a table:
//! generations per minute with the built-in engine and tests skipped, on SQLite and (when
//! `QL_TEST_POSTGRES_URL` is set) PostgreSQL, with 1 and 2
//! `quantumlayer worker` processes behind one `serve --no-worker` web process; and the time
//! from a step starting (its `step_started` event stored) to that event reaching a connected
//! SSE client of the web process, p50/p99/max — always across processes (the SQLite watch or
//! PostgreSQL `NOTIFY`), both with every generation submitted at once (a saturated machine)
//! and with one submitted every 200 ms.
//!
//!     cargo bench -p server --bench generations
//!     QL_BENCH_GENERATIONS=100 cargo bench -p server --bench generations

#![expect(clippy::expect_used, reason = "a benchmark stops at the first broken step")]
#![expect(clippy::print_stdout, reason = "a benchmark prints its table")]

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;
use support::{Running, org_with_key, parse_sse_block, quantumlayer};

const DESCRIPTIONS: [&str; 3] = [
    "A todo app: todos have a title, optional notes, a due date and a done flag.",
    "A library where members borrow books. Books have a title, an author, an ISBN and a published year. Members have a name and an email.",
    "An inventory of parts: parts have a sku, a name, a quantity and a unit price.",
];

/// One received event: the generation, its number and kind, when it arrived (µs since epoch).
type Arrival = (String, i64, String, i64);

fn micros_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or_default()
}

struct Run {
    backend: &'static str,
    workers: usize,
    /// Submitted one every this often (`None`: all at once, for throughput).
    pace: Option<Duration>,
    generations: usize,
    seconds: f64,
    /// Step start → SSE client, in milliseconds, sorted.
    latencies: Vec<f64>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

async fn follow(client: reqwest::Client, url: String, key: String, id: String) -> Vec<Arrival> {
    let response = client.get(url).bearer_auth(key).send().await.expect("events");
    let mut body = response.bytes_stream();
    let (mut text, mut arrivals) = (String::new(), Vec::new());
    while let Some(chunk) = body.next().await {
        let at = micros_now();
        text.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            if let Some((seq, kind, _)) = parse_sse_block(block.trim_end()) {
                arrivals.push((id.clone(), seq, kind, at));
            }
        }
    }
    arrivals
}

async fn measure(
    backend: &'static str,
    database_url: Option<String>,
    workers: usize,
    pace: Option<Duration>,
) -> Run {
    let count: usize =
        std::env::var("QL_BENCH_GENERATIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(40);
    let dir = tempfile::tempdir().expect("dir");
    let url = database_url.as_deref();
    let (slug, key) = org_with_key(dir.path(), url, "Bench");
    let queue = format!("bench-{}", micros_now());
    let command = |args: &[&str]| {
        let mut command = quantumlayer(dir.path(), url);
        command
            .args(args)
            .env("QL_GENERATIONS_PER_ORG", "64")
            .env("QL_GENERATION_QUEUE", &queue)
            .env("QL_LOG", "warn,server=info");
        command
    };
    let (_web, base) = support::start_server(command(&["serve", "--no-worker"]));
    let _workers: Vec<Running> = (0..workers)
        .map(|_| {
            let child = command(&["worker"]).stderr(std::process::Stdio::null()).spawn();
            Running(child.expect("worker"))
        })
        .collect();
    let client = reqwest::Client::new();
    let submit = |index: usize| {
        let request =
            client.post(format!("{base}/api/generations")).bearer_auth(&key).json(&json!({
                "description": DESCRIPTIONS[index % DESCRIPTIONS.len()],
                "stack": "python-fastapi",
                "run_tests": false,
            }));
        async move {
            let answer: serde_json::Value =
                request.send().await.expect("submit").json().await.expect("json");
            answer["id"].as_str().expect("id").to_owned()
        }
    };
    let events_url = |id: &str| format!("{base}/api/generations/{id}/events");

    // Warm-up: one generation end to end, so the workers are up and their caches warm.
    let warm = submit(usize::MAX).await;
    follow(client.clone(), events_url(&warm), key.clone(), warm).await;

    let started = Instant::now();
    let mut followers = Vec::new();
    for index in 0..count {
        if let Some(pace) = pace {
            tokio::time::sleep(pace).await;
        }
        let id = submit(index).await;
        let task = follow(client.clone(), events_url(&id), key.clone(), id);
        followers.push(tokio::spawn(task));
    }
    let mut arrivals = Vec::new();
    for follower in followers {
        arrivals.extend(follower.await.expect("follower"));
    }
    let seconds = started.elapsed().as_secs_f64();

    // When each step started, as stored with its event.
    let store = ql_store::Store::connect(&database_url.clone().unwrap_or_else(|| {
        format!("sqlite://{}", dir.path().join("data").join("quantumlayer.db").display())
    }))
    .await
    .expect("store");
    let org = store.accounts.organization_by_slug(&slug).await.expect("org").id;
    let mut stored = BTreeMap::new();
    let mut latencies = Vec::new();
    for (id, seq, kind, at) in arrivals {
        if kind != "step_started" {
            continue;
        }
        if !stored.contains_key(&id) {
            let generation = ql_store::GenerationId(id.clone());
            let events =
                store.generations.events_since(&org, &generation, 0, 1000).await.expect("events");
            let times: BTreeMap<i64, i64> =
                events.into_iter().map(|event| (event.seq, event.created_at)).collect();
            stored.insert(id.clone(), times);
        }
        let created_ms = stored[&id][&seq];
        latencies.push((at - created_ms * 1000) as f64 / 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    Run { backend, workers, pace, generations: count, seconds, latencies }
}

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        println!("generations: bench");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut runs = Vec::new();
        // All at once for throughput (and latency on a saturated machine); then one every
        // 200 ms, for the latency of event delivery itself.
        for pace in [None, Some(Duration::from_millis(200))] {
            for workers in [1, 2] {
                runs.push(measure("sqlite", None, workers, pace).await);
                if let Some(schema) = support::postgres_schema("bench").await {
                    runs.push(measure("postgres", Some(schema.url.clone()), workers, pace).await);
                    schema.finish().await;
                }
            }
        }
        println!(
            "{:<9} {:>7} {:>8} {:>11} {:>8} {:>8} | step start → SSE client ms: {:>6} {:>6} {:>6} {:>6}",
            "backend", "workers", "submit", "generations", "seconds", "per_min", "events", "p50",
            "p99", "max"
        );
        for run in &runs {
            let (submit, per_minute) = match run.pace {
                None => ("burst".to_owned(), format!("{:.1}", run.generations as f64 * 60.0 / run.seconds)),
                Some(pace) => (format!("1/{}ms", pace.as_millis()), "-".to_owned()),
            };
            println!(
                "{:<9} {:>7} {:>8} {:>11} {:>8.2} {:>8} | {:>33} {:>6.1} {:>6.1} {:>6.1}",
                run.backend,
                run.workers,
                submit,
                run.generations,
                run.seconds,
                per_minute,
                run.latencies.len(),
                percentile(&run.latencies, 50.0),
                percentile(&run.latencies, 99.0),
                run.latencies.last().copied().unwrap_or(f64::NAN),
            );
        }
    });
}
