//! Two real gateway processes sharing one Redis: they never admit more than the rate limit
//! between them, and one answers from the cache the other filled.
//! Runs when `QL_TEST_REDIS_URL` is set (the services tier of `scripts/test.sh`).

#![expect(clippy::expect_used, reason = "a test fails loudly at the first broken step")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LIMIT: usize = 10;

fn quantumlayer(dir: &std::path::Path, redis: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quantumlayer"));
    command
        .current_dir(dir)
        .env_remove("QL_DATABASE_URL")
        .env("QL_DATA_DIR", dir.join("data"))
        .env("QL_REDIS_URL", redis)
        // Each run has its own keys: the default organisation's id is the same in every database.
        .env(
            "QL_REDIS_NAMESPACE",
            dir.file_name().and_then(|name| name.to_str()).unwrap_or("ql-test"),
        )
        .env("QL_LOG_FORMAT", "json")
        .env("NO_COLOR", "1");
    command
}

/// A gateway process, killed and reaped when dropped (also when an assertion fails).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `quantumlayer gateway` on port 0 and returns it with its address.
fn start_gateway(dir: &std::path::Path, redis: &str) -> (Running, String) {
    let mut child = Running(
        quantumlayer(dir, redis)
            .args(["gateway", "--listen", "127.0.0.1:0"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
    );
    let mut lines = BufReader::new(child.0.stderr.take().expect("stderr")).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "no `listening on` line within 60 s");
        let line = lines.next().expect("gateway exited early").expect("line");
        let event: serde_json::Value = serde_json::from_str(&line).expect("JSON log line");
        if let Some(address) =
            event["message"].as_str().and_then(|m| m.strip_prefix("listening on http://"))
        {
            let address = address.to_owned();
            std::thread::spawn(move || lines.for_each(drop));
            return (child, address);
        }
    }
}

/// POSTs a chat request and returns the status code.
fn chat(address: &str, key: &str) -> u16 {
    let response =
        post_chat(address, key, r#"{"model":"fast","messages":[{"role":"user","content":"hi"}]}"#);
    response.split(' ').nth(1).and_then(|code| code.parse().ok()).expect("status line")
}

/// POSTs a chat request and returns the whole HTTP response.
fn post_chat(address: &str, key: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    write!(
        stream,
        "POST /v1/chat/completions HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
}

/// A data directory with a config routing `fast` to `upstream_url`, plus an API key.
fn prepare(dir: &std::path::Path, redis: &str, upstream_url: &str, quotas: &str) -> String {
    std::fs::write(
        dir.join("quantumlayer.toml"),
        format!(
            "[[providers]]\nname = \"upstream\"\nkind = \"openai\"\nbase_url = \"{upstream_url}\"\n\n\
             [[routes]]\nmodel = \"fast\"\ntargets = [{{ provider = \"upstream\", model = \"gpt-4o-mini\" }}]\n\n\
             [quotas]\n{quotas}\n"
        ),
    )
    .expect("config");
    let output = quantumlayer(dir, redis)
        .args(["keys", "create", "--org", "default", "--name", "pair"])
        .output()
        .expect("keys");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8").trim().to_owned()
}

#[test]
fn redis_backend_two_gateways_share_one_rate_limit() {
    let Ok(redis) = std::env::var("QL_TEST_REDIS_URL") else {
        eprintln!("QL_TEST_REDIS_URL is not set: shared-limit test skipped");
        return;
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mock = runtime.block_on(ql_mock_llm::openai::start()).expect("mock upstream");
    let dir = tempfile::tempdir().expect("temp dir");
    let key =
        prepare(dir.path(), &redis, &mock.base_url, &format!("org_requests_per_minute = {LIMIT}"));

    let (first, first_address) = start_gateway(dir.path(), &redis);
    let (second, second_address) = start_gateway(dir.path(), &redis);
    let started = Instant::now();
    let statuses: Vec<u16> = (0..3 * LIMIT)
        .map(|i| chat(if i % 2 == 0 { &first_address } else { &second_address }, &key))
        .collect();
    let elapsed = started.elapsed();
    drop((first, second));

    let admitted = statuses.iter().filter(|&&status| status == 200).count();
    let refused = statuses.iter().filter(|&&status| status == 429).count();
    assert_eq!(admitted + refused, statuses.len(), "{statuses:?}");
    // The bucket refills LIMIT per minute: over the run at most this many more.
    let refilled = (elapsed.as_secs_f64() * LIMIT as f64 / 60.0).floor() as usize;
    assert!(
        (LIMIT..=LIMIT + refilled).contains(&admitted),
        "admitted {admitted} in {elapsed:?}: {statuses:?}"
    );
    assert_eq!(mock.calls(), admitted, "refused requests never reach the upstream");
}

#[test]
fn redis_backend_two_gateways_share_the_answer_cache() {
    let Ok(redis) = std::env::var("QL_TEST_REDIS_URL") else {
        eprintln!("QL_TEST_REDIS_URL is not set: shared-cache test skipped");
        return;
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mock = runtime.block_on(ql_mock_llm::openai::start()).expect("mock upstream");
    let dir = tempfile::tempdir().expect("temp dir");
    let key = prepare(dir.path(), &redis, &mock.base_url, "");
    let (first, first_address) = start_gateway(dir.path(), &redis);
    let (second, second_address) = start_gateway(dir.path(), &redis);
    let body =
        r#"{"model":"fast","temperature":0,"messages":[{"role":"user","content":"shared"}]}"#;
    let miss = post_chat(&first_address, &key, body);
    let hit = post_chat(&second_address, &key, body);
    drop((first, second));
    assert!(miss.contains("x-ql-cache: miss"), "{miss}");
    assert!(hit.contains("x-ql-cache: hit"), "{hit}");
    assert!(hit.contains("Hello there"), "{hit}");
    assert_eq!(mock.calls(), 1, "the second process answered from Redis");
}
