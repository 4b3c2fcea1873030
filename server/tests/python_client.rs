//! The official `openai` Python package against the real gateway binary: answers, streams,
//! tool calls and errors (`end2end/openai-client/check_gateway.py`). Runs when
//! `QL_TEST_OPENAI_PYTHON` names a Python with the package (the services tier sets it up).

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn python_client_openai_package_talks_to_the_gateway() {
    let Ok(python) = std::env::var("QL_TEST_OPENAI_PYTHON") else {
        eprintln!("QL_TEST_OPENAI_PYTHON is not set: openai package test skipped");
        return;
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mock = runtime.block_on(ql_mock_llm::openai::start()).expect("mock upstream");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("quantumlayer.toml"),
        format!(
            "[[providers]]\nname = \"upstream\"\nkind = \"openai\"\nbase_url = \"{}\"\n\n\
             [[routes]]\nmodel = \"fast\"\ntargets = [{{ provider = \"upstream\", model = \"gpt-4o-mini\" }}]\n\n\
             [router]\nmax_retry_after_secs = 1\n",
            mock.base_url
        ),
    )
    .expect("config");
    let binary = env!("CARGO_BIN_EXE_quantumlayer");
    let quantumlayer = || {
        let mut command = Command::new(binary);
        command
            .current_dir(dir.path())
            .env_remove("QL_DATABASE_URL")
            .env_remove("QL_REDIS_URL")
            .env("QL_DATA_DIR", dir.path().join("data"))
            .env("QL_LOG_FORMAT", "json");
        command
    };
    let output = quantumlayer()
        .args(["keys", "create", "--org", "default", "--name", "python"])
        .output()
        .expect("keys");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let key = String::from_utf8(output.stdout).expect("utf-8").trim().to_owned();

    let mut gateway = Running(
        quantumlayer()
            .args(["gateway", "--listen", "127.0.0.1:0"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
    );
    let mut lines = std::io::BufReader::new(gateway.0.stderr.take().expect("stderr")).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let address = loop {
        assert!(Instant::now() < deadline, "no `listening on` line within 60 s");
        let line = lines.next().expect("gateway exited early").expect("line");
        let event: serde_json::Value = serde_json::from_str(&line).expect("JSON log line");
        if let Some(address) =
            event["message"].as_str().and_then(|m| m.strip_prefix("listening on http://"))
        {
            break address.to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));

    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../end2end/openai-client/check_gateway.py");
    let output = Command::new(python)
        .arg(script)
        .env("OPENAI_BASE_URL", format!("http://{address}/v1"))
        .env("OPENAI_API_KEY", key)
        .output()
        .expect("python");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the openai client failed:\n{stdout}\n{stderr}");
    assert_eq!(stdout.lines().filter(|line| line.starts_with("ok ")).count(), 15, "{stdout}");
}
