//! Nothing lost: twenty generations queued through the API of a web process, run by
//! `quantumlayer worker` processes that are killed (SIGKILL) again and again — at random
//! moments and in the middle of sandboxed test runs — on SQLite and on PostgreSQL. Every
//! generation finishes with exactly one capsule that verifies, no step that succeeded runs
//! again, and every event stream (followed live through the kills, and read again afterwards)
//! is numbered without gap or duplicate. On PostgreSQL, also two `serve` processes and one
//! `worker` sharing the work, with events reaching a subscriber of the other web process.

#![expect(clippy::expect_used, reason = "a test fails loudly at the first broken step")]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use sha2::Digest;
use support::{Running, SseEvent, org_with_key, parse_sse, parse_sse_block, quantumlayer};

const DESCRIPTIONS: [&str; 4] = [
    "A todo app: todos have a title, optional notes, a due date and a done flag.",
    "A library where members borrow books. Books have a title, an author, an ISBN and a published year. Members have a name and an email.",
    "A recipe book: recipes have a name, a cuisine, minutes to cook and a vegetarian flag.",
    "An inventory of parts: parts have a sku, a name, a quantity and a unit price.",
];

const GENERATIONS: usize = 20;
/// Generations whose tests run in the sandbox: the long steps that kills land in.
const WITH_TESTS: usize = 3;
const KILLS: usize = 8;
const FINAL_EVENTS: [&str; 3] = ["succeeded", "failed", "cancelled"];

/// One installation under test: its directory, database and queue.
struct Installation {
    dir: tempfile::TempDir,
    database_url: Option<String>,
    queue: String,
    /// Steps each process runs at once.
    step_slots: usize,
}

impl Installation {
    fn new(database_url: Option<String>) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let queue = format!("durable-{nanos:x}");
        Self { dir: tempfile::tempdir().expect("dir"), database_url, queue, step_slots: 16 }
    }

    /// Each process runs at most `slots` steps at once, so that no one process can take
    /// all of the work.
    fn with_step_slots(self, slots: usize) -> Self {
        Self { step_slots: slots, ..self }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = quantumlayer(self.dir.path(), self.database_url.as_deref());
        command
            .args(args)
            .env("QL_GENERATIONS_PER_ORG", "4")
            .env("QL_GENERATION_QUEUE", &self.queue)
            .env("QL_GENERATION_CONCURRENCY", self.step_slots.to_string())
            .env("QL_LOG", "info,sqlx=warn");
        command
    }

    /// A `quantumlayer worker` process, its log in the directory.
    fn worker(&self, number: usize) -> Running {
        let log = std::fs::File::create(self.dir.path().join(format!("worker-{number}.log")))
            .expect("log file");
        let child = self.command(&["worker"]).stderr(Stdio::from(log)).spawn().expect("worker");
        Running(child)
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// A tiny deterministic generator, seeded from the clock and printed for replay.
struct Dice(u64);

impl Dice {
    fn from_clock() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7);
        eprintln!("kill schedule seed: {nanos}");
        Self(nanos | 1)
    }

    fn millis(&mut self, low: u64, high: u64) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_millis(low + self.0 % (high - low))
    }
}

struct Api {
    client: reqwest::Client,
    key: String,
}

impl Api {
    async fn submit(&self, base: &str, index: usize) -> String {
        let body = json!({
            "description": DESCRIPTIONS[index % DESCRIPTIONS.len()],
            "stack": "python-fastapi",
            "run_tests": index < WITH_TESTS,
        });
        let answer = self
            .client
            .post(format!("{base}/api/generations"))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .expect("submit");
        assert_eq!(answer.status(), 202);
        let answer: Value = answer.json().await.expect("json");
        answer["id"].as_str().expect("id").to_owned()
    }

    async fn status(&self, base: &str, id: &str) -> Value {
        let answer = self
            .client
            .get(format!("{base}/api/generations/{id}"))
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("status");
        assert_eq!(answer.status(), 200);
        answer.json().await.expect("json")
    }

    async fn events(&self, base: &str, id: &str) -> Vec<SseEvent> {
        let answer = self
            .client
            .get(format!("{base}/api/generations/{id}/events"))
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("events");
        parse_sse(&answer.text().await.expect("body"))
    }

    /// Follows a stream live to its final event, block by block.
    fn follow(&self, base: &str, id: &str) -> tokio::task::JoinHandle<Vec<SseEvent>> {
        let request =
            self.client.get(format!("{base}/api/generations/{id}/events")).bearer_auth(&self.key);
        tokio::spawn(async move {
            let response = request.send().await.expect("follow");
            let mut body = response.bytes_stream();
            let (mut text, mut events) = (String::new(), Vec::new());
            while let Some(chunk) = body.next().await {
                text.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
                while let Some(end) = text.find("\n\n") {
                    let block: String = text.drain(..end + 2).collect();
                    events.extend(parse_sse_block(block.trim_end()));
                }
            }
            events
        })
    }

    async fn all_finished(&self, base: &str, ids: &[String]) -> bool {
        for id in ids {
            let status = self.status(base, id).await;
            if !FINAL_EVENTS.contains(&status["status"].as_str().unwrap_or_default()) {
                return false;
            }
        }
        true
    }

    /// Waits for every generation to finish by the deadline, then for each live stream to end
    /// after its final event: what each follower saw.
    async fn finish(
        &self,
        base: &str,
        ids: &[String],
        followers: Vec<(String, tokio::task::JoinHandle<Vec<SseEvent>>)>,
        deadline: Instant,
    ) -> BTreeMap<String, Vec<SseEvent>> {
        while !self.all_finished(base, ids).await {
            assert!(Instant::now() < deadline, "generations unfinished at the deadline");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let mut followed = BTreeMap::new();
        for (id, follower) in followers {
            let events = tokio::time::timeout(Duration::from_secs(30), follower)
                .await
                .expect("every live stream ends after its final event")
                .expect("follower");
            followed.insert(id, events);
        }
        followed
    }

    /// Whether some generation is in the middle of its sandboxed tests, and whether any that
    /// runs tests is still unfinished.
    async fn testing(&self, base: &str, ids: &[String]) -> (bool, bool) {
        let (mut running, mut pending) = (false, false);
        for id in &ids[..WITH_TESTS] {
            let status = self.status(base, id).await;
            pending |= !FINAL_EVENTS.contains(&status["status"].as_str().unwrap_or_default());
            let steps = status["steps"].as_array().cloned().unwrap_or_default();
            running |=
                steps.iter().any(|step| step["role"] == "tester" && step["status"] == "running");
        }
        (running, pending)
    }
}

/// What a finished run is checked for; the counts go to the closing note.
#[derive(Debug, Default)]
struct Tally {
    events: usize,
    steps: usize,
    steps_run_again: usize,
    step_starts: usize,
}

/// Every generation succeeded with one verifying capsule; its stream is numbered 1..n with one
/// final event, last; each step finished exactly once and its later events came after.
async fn check_finished(
    installation: &Installation,
    api: &Api,
    base: &str,
    ids: &[String],
    slug: &str,
    followed: BTreeMap<String, Vec<SseEvent>>,
) -> Tally {
    let mut tally = Tally::default();
    let mut capsules = BTreeSet::new();
    let mut project = None;
    for id in ids {
        let status = api.status(base, id).await;
        assert_eq!(status["status"], "succeeded", "{id}: {status}");
        project = status["project_id"].as_str().map(str::to_owned);
        let steps = status["steps"].as_array().expect("steps");
        for step in steps {
            assert_eq!(step["status"], "succeeded", "{id}: {step}");
            if step["attempts"].as_i64().unwrap_or_default() > 1 {
                tally.steps_run_again += 1;
            }
        }
        tally.steps += steps.len();

        let events = api.events(base, id).await;
        let numbers: Vec<i64> = events.iter().map(|(seq, _, _)| *seq).collect();
        assert_eq!(numbers, (1..=events.len() as i64).collect::<Vec<_>>(), "{id}: gap or repeat");
        let finals: Vec<&str> = events
            .iter()
            .map(|(_, kind, _)| kind.as_str())
            .filter(|kind| FINAL_EVENTS.contains(kind))
            .collect();
        assert_eq!(finals, ["succeeded"], "{id}");
        assert_eq!(events.last().map(|(_, kind, _)| kind.as_str()), Some("succeeded"));
        let mut finished_steps = BTreeMap::<String, usize>::new();
        for (_, kind, data) in &events {
            match kind.as_str() {
                "step_finished" => {
                    *finished_steps
                        .entry(data["step"].as_str().expect("step").to_owned())
                        .or_default() += 1;
                }
                "step_started" => tally.step_starts += 1,
                _ => {}
            }
        }
        assert_eq!(finished_steps.len(), steps.len(), "{id}: every step finished");
        assert!(finished_steps.values().all(|count| *count == 1), "{id}: {finished_steps:?}");
        tally.events += events.len();
        if let Some(live) = followed.get(id) {
            assert_eq!(live, &events, "{id}: the live stream differs from the stored one");
        }

        let capsule = status["capsule_id"].as_str().expect("capsule").to_owned();
        let download = api
            .client
            .get(format!("{base}/api/capsules/{capsule}"))
            .bearer_auth(&api.key)
            .send()
            .await
            .expect("download");
        let sha = download.headers()["x-ql-sha256"].to_str().expect("sha").to_owned();
        let archive = download.bytes().await.expect("archive");
        assert_eq!(hex::encode(sha2::Sha256::digest(&archive)), sha);
        ql_capsule::verify(&archive, &ql_capsule::Limits::default()).expect("capsule verifies");
        assert!(capsules.insert(capsule), "{id}: a capsule shared with another generation");
    }
    // Exactly one capsule each: the project holds these and no other.
    let store = ql_store::Store::connect(&database_url(installation)).await.expect("store");
    let org = store.accounts.organization_by_slug(slug).await.expect("org");
    let project = ql_store::ProjectId(project.expect("a project"));
    let stored: BTreeSet<String> = store
        .capsules
        .list(&org.id, &project)
        .await
        .expect("capsules")
        .into_iter()
        .map(|capsule| capsule.id.0)
        .collect();
    assert_eq!(stored, capsules);
    tally
}

fn database_url(installation: &Installation) -> String {
    installation.database_url.clone().unwrap_or_else(|| {
        format!("sqlite://{}", installation.dir().join("data").join("quantumlayer.db").display())
    })
}

async fn kill_and_resume(installation: Installation) {
    let (slug, key) =
        org_with_key(installation.dir(), installation.database_url.as_deref(), "Durable");
    // The API process runs no steps: only the killed workers do.
    let (_web, base) = support::start_server(installation.command(&["serve", "--no-worker"]));
    let api = Api { client: support::http_client(), key };
    let mut ids = Vec::new();
    for index in 0..GENERATIONS {
        ids.push(api.submit(&base, index).await);
    }
    let followers: Vec<_> = ids.iter().map(|id| (id.clone(), api.follow(&base, id))).collect();

    let mut dice = Dice::from_clock();
    let (mut kills, mut kills_in_tests) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(900);
    let mut number = 0;
    while kills < KILLS && !api.all_finished(&base, &ids).await {
        number += 1;
        let mut worker = installation.worker(number);
        // Every other kill waits for a sandboxed test run to be under way; the rest are random.
        let aim_at_tests = kills % 2 == 0;
        let started = Instant::now();
        if aim_at_tests {
            let mut testing = false;
            while started.elapsed() < Duration::from_secs(60) {
                let (running, pending) = api.testing(&base, &ids).await;
                testing = running;
                if running || !pending {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            tokio::time::sleep(dice.millis(0, 500)).await;
            kills_in_tests += usize::from(testing);
        } else {
            tokio::time::sleep(dice.millis(300, 4000)).await;
        }
        worker.0.kill().expect("SIGKILL");
        worker.0.wait().expect("reaped");
        kills += 1;
        assert!(Instant::now() < deadline, "the kill schedule overran");
    }
    number += 1;
    let _survivor = installation.worker(number);
    let followed = api.finish(&base, &ids, followers, deadline).await;
    let tally = check_finished(&installation, &api, &base, &ids, &slug, followed).await;
    eprintln!(
        "kill-and-resume: {GENERATIONS} generations, {kills} SIGKILLs ({kills_in_tests} during \
         sandboxed tests), {} steps ({} run again after a kill, {} step starts), {} events, \
         {GENERATIONS} capsules verified",
        tally.steps, tally.steps_run_again, tally.step_starts, tally.events
    );
    assert!(kills >= 3, "the workers were killed only {kills} times before everything finished");
    assert!(kills_in_tests >= 1, "no kill landed in a sandboxed test run");
    assert!(tally.steps_run_again >= 1, "no step was interrupted and run again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_apps_on_sqlite_survive_workers_killed_again_and_again() {
    kill_and_resume(Installation::new(None)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backend_generated_apps_survive_workers_killed_again_and_again() {
    let Some(schema) = support::postgres_schema("durable").await else {
        eprintln!("QL_TEST_POSTGRES_URL is not set: skipped");
        return;
    };
    kill_and_resume(Installation::new(Some(schema.url.clone()))).await;
    schema.finish().await;
}

/// Two web processes (each with a worker) and one `worker` on one PostgreSQL: each step runs
/// once, the work spreads over the processes, and a subscriber of the other web process sees
/// every event live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backend_two_servers_and_a_worker_share_the_work() {
    let Some(schema) = support::postgres_schema("replicas").await else {
        eprintln!("QL_TEST_POSTGRES_URL is not set: skipped");
        return;
    };
    let url = schema.url.clone();
    // Three slots a process, four generations at a time: a fan-in waiting on its coders
    // holds a slot, so the coders must run on the other processes too.
    let installation = Installation::new(Some(url)).with_step_slots(3);
    let (slug, key) =
        org_with_key(installation.dir(), installation.database_url.as_deref(), "Replicas");
    let (first_process, first) = support::start_server(installation.command(&["serve"]));
    let (second_process, second) = support::start_server(installation.command(&["serve"]));
    let worker = installation.worker(1);
    let api = Api { client: support::http_client(), key };
    let mut ids = Vec::new();
    let mut followers = Vec::new();
    for index in WITH_TESTS..WITH_TESTS + 12 {
        let id = api.submit(&first, index).await;
        // Followed on the other web process from the moment it is queued.
        followers.push((id.clone(), api.follow(&second, &id)));
        ids.push(id);
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    let followed = api.finish(&first, &ids, followers, deadline).await;
    let tally = check_finished(&installation, &api, &second, &ids, &slug, followed).await;
    assert_eq!(tally.steps_run_again, 0, "no process died: every step ran once");
    assert_eq!(tally.step_starts, tally.steps, "every step started once");
    let mut workers = BTreeSet::new();
    for id in &ids {
        let status = api.status(&second, id).await;
        for step in status["steps"].as_array().expect("steps") {
            workers.insert(step["worker"].as_str().unwrap_or_default().to_owned());
        }
    }
    eprintln!("replicas: {} steps over {} worker processes", tally.steps, workers.len());
    assert!(workers.len() >= 2, "the work stayed on one process: {workers:?}");
    drop((first_process, second_process, worker));
    schema.finish().await;
}
