//! The real `quantumlayer` binary: serving on port 0, shutting down on SIGTERM, and failing
//! clearly on bad configuration or an unusable database.

#![expect(clippy::expect_used, reason = "a test fails loudly at the first broken step")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;

/// The binary in `dir` on SQLite, logging for people (as a user would see it).
fn quantumlayer(dir: &std::path::Path) -> Command {
    let mut command = support::quantumlayer(dir, None);
    command.env_remove("QL_LOG_FORMAT");
    command
}

fn http_get(address: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
}

#[test]
fn serves_on_port_zero_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = quantumlayer(dir.path())
        .env("QL_LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let address = loop {
        assert!(Instant::now() < deadline, "no `listening on` line within 60 s");
        let line = lines.next().expect("server exited early").expect("line");
        let event: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|error| panic!("not a JSON log line ({error}): {line}"));
        if let Some(rest) =
            event["message"].as_str().and_then(|m| m.strip_prefix("listening on http://"))
        {
            break rest.to_owned();
        }
    };

    let health = http_get(&address, "/healthz");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let ready = http_get(&address, "/readyz");
    assert!(ready.ends_with("ready"), "{ready}");
    assert!(dir.path().join("data/quantumlayer.db").exists(), "database created on first run");

    let status =
        Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let exit = child.wait().expect("wait");
    assert!(exit.success(), "graceful exit, got {exit}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("shutting down")), "{rest:?}");
    // Each request is logged as JSON inside its own span, with its id.
    let health_log = rest
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|event| event["span"]["path"] == "/healthz")
        .unwrap_or_else(|| panic!("no JSON log line for /healthz in {rest:?}"));
    assert_eq!(health_log["span"]["method"], "GET");
    assert_eq!(health_log["span"]["request_id"].as_str().map(str::len), Some(36));
}

#[test]
fn an_unusable_database_is_one_clear_line_and_a_failure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = quantumlayer(dir.path())
        .env("QL_DATABASE_URL", "sqlite:///nonexistent-dir/ql.db")
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: cannot open the database sqlite:///nonexistent-dir/ql.db:"),
        "{stderr}"
    );
}

#[test]
fn a_malformed_config_names_file_line_and_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("quantumlayer.toml"), "[http]\nmax_body = 5\n").expect("write");
    let output = quantumlayer(dir.path()).arg("migrate").output().expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("quantumlayer.toml"), "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");
    assert!(stderr.contains("unknown field `max_body`"), "{stderr}");
}

#[test]
fn migrate_creates_the_database_and_config_example_parses() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = quantumlayer(dir.path()).arg("migrate").output().expect("run");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(dir.path().join("data/quantumlayer.db").exists());

    let output = quantumlayer(dir.path()).args(["config", "example"]).output().expect("run");
    assert!(output.status.success());
    let example = dir.path().join("example.toml");
    std::fs::write(&example, &output.stdout).expect("write");
    let output = quantumlayer(dir.path())
        .args(["--config", example.to_str().expect("utf-8"), "migrate"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn analyze_reports_findings_and_fails_on_request() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("run.py"), "import os\n\ndef run(p):\n    os.system('ls ' + p)\n")
        .expect("write");
    std::fs::write(src.join("ok.rs"), "fn ok() -> u32 {\n    1\n}\n").expect("write");

    let output = quantumlayer(dir.path())
        .args(["analyze", "src", "--format", "json", "--fail-on", "high"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["schema"], "quantumlayer.analysis/v1");
    assert_eq!(report["totals"]["files"], 2);
    assert_eq!(report["totals"]["findings_high"], 1);
    assert_eq!(report["files"][0]["path"], "src/ok.rs", "files are sorted by path");
    let finding = &report["files"][1]["findings"][0];
    assert_eq!(
        (finding["rule"].as_str(), finding["line"].as_u64()),
        (Some("py.os-system"), Some(4))
    );

    let output = quantumlayer(dir.path())
        .args(["analyze", "src/ok.rs", "--fail-on", "low"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("1 files, 3 code lines"));

    let output = quantumlayer(dir.path())
        .args(["analyze", "src", "--format", "sarif"])
        .output()
        .expect("run");
    let sarif: serde_json::Value = serde_json::from_slice(&output.stdout).expect("sarif json");
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "py.os-system");

    let output = quantumlayer(dir.path()).args(["analyze", "missing"]).output().expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim(),
        "error: missing: no such file or directory"
    );
}

#[test]
fn capsule_verify_accepts_a_signed_capsule_and_refuses_a_changed_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = ql_capsule::Manifest {
        format_version: ql_capsule::FORMAT_VERSION,
        id: "cap_cli".into(),
        created_at: "2026-11-26T10:00:00Z".into(),
        description: "A todo app".into(),
        spec: serde_json::json!({"name": "todo"}),
        stack: "python-fastapi".into(),
        files: Vec::new(),
        commands: ql_capsule::Commands { install: "i".into(), test: "t".into(), run: "r".into() },
        port: 8000,
        provenance: ql_capsule::Provenance {
            provider: "builtin".into(),
            model: "builtin".into(),
            prompt_hashes: Vec::new(),
        },
        usage: ql_capsule::Usage::default(),
        validation: ql_capsule::ValidationReport::default(),
        edited: None,
    };
    let files =
        [ql_capsule::ProjectFile { path: "app/main.py".into(), contents: b"print(1)\n".to_vec() }];
    let key = ql_capsule::InstallationKey::generate();
    let capsule =
        ql_capsule::build(manifest, &files, &key, &ql_capsule::Limits::default()).expect("capsule");
    let path = dir.path().join("todo.zip");
    std::fs::write(&path, &capsule.bytes).expect("write");
    let output =
        quantumlayer(dir.path()).args(["capsule", "verify", "todo.zip"]).output().expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("verifies: capsule cap_cli (python-fastapi), 1 files"), "{stdout}");

    // One byte of the manifest's compressed data changed (its local header is 30 bytes and
    // its name 12): the manifest no longer reads or no longer matches its signature.
    let mut changed = capsule.bytes.clone();
    changed[50] ^= 0xff;
    std::fs::write(&path, &changed).expect("write");
    let output =
        quantumlayer(dir.path()).args(["capsule", "verify", "todo.zip"]).output().expect("run");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not verify"));

    let output =
        quantumlayer(dir.path()).args(["capsule", "verify", "missing.zip"]).output().expect("run");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn generate_writes_a_capsule_that_verifies_and_refuses_a_meaningless_description() {
    let dir = tempfile::tempdir().expect("temp dir");
    let description = "Track expenses: each expense has an amount, a currency (one of EUR, USD or GBP), a date, a category and an optional description.";
    let output = quantumlayer(dir.path())
        .args(["generate", "--no-validate", "--json", "--out", "expenses.zip", description])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(summary["stack"], "python-fastapi");
    assert_eq!(summary["spec"]["entities"][0]["name"], "expense");
    assert!(summary["tests"].is_null(), "--no-validate runs no tests");
    let output =
        quantumlayer(dir.path()).args(["capsule", "verify", "expenses.zip"]).output().expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));

    let output = quantumlayer(dir.path())
        .args(["generate", "--no-validate", "hello there"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("keep track of"));
    let output = quantumlayer(dir.path())
        .args(["generate", "--stack", "cobol-cics", description])
        .output()
        .expect("run");
    // A usage error, naming the stacks there are.
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cobol-cics") && stderr.contains("typescript-express"), "{stderr}");
    let output = quantumlayer(dir.path())
        .args(["generate", "--model", "no-such-route", description])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no-such-route"));
}

#[test]
fn orgs_create_prints_a_slug_that_keys_create_takes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output =
        quantumlayer(dir.path()).args(["orgs", "create", "Acme Labs"]).output().expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "acme-labs\n");
    let output = quantumlayer(dir.path())
        .args(["keys", "create", "--org", "acme-labs", "--name", "ci"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("ql_"));
    let output =
        quantumlayer(dir.path()).args(["orgs", "create", "acme labs"]).output().expect("run");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("already exists"));
}
