//! The generations REST API on the real binary (web server and worker in one process, SQLite):
//! submit with a key, follow the event stream to the end, replay it from every number and
//! reconnect mid-stream (while the app's tests run in the sandbox, one event per test), read
//! the status, download the capsule with its hash, cancel; another organisation sees 404.

#![expect(clippy::expect_used, reason = "a test fails loudly at the first broken step")]

mod support;

use futures::StreamExt;
use serde_json::{Value, json};
use sha2::Digest;
use support::{org_with_key, parse_sse, parse_sse_block, quantumlayer, start_server};

const TODO: &str = "A todo app: todos have a title, optional notes, a due date and a done flag.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_apps_are_submitted_followed_downloaded_and_cancelled_within_their_organisation()
{
    let dir = tempfile::tempdir().expect("dir");
    let (_, key) = org_with_key(dir.path(), None, "Acme");
    let (_, intruder) = org_with_key(dir.path(), None, "Other");
    let (_server, base) = start_server(quantumlayer(dir.path(), None));
    let client = support::http_client();
    let url = |path: &str| format!("{base}{path}");
    let submit = |key: String, body: Value| {
        let request = client.post(url("/api/generations")).bearer_auth(key).json(&body);
        async move { request.send().await.expect("submit") }
    };

    let body = json!({"description": TODO, "stack": "python-fastapi", "run_tests": false});
    let accepted = submit(key.clone(), body.clone()).await;
    assert_eq!(accepted.status(), 202);
    let accepted: Value = accepted.json().await.expect("json");
    assert_eq!(accepted["status"], "queued");
    let id = accepted["id"].as_str().expect("id").to_owned();

    // The stream from the start ends after the final event: numbered 1..n, nothing missing.
    let events_url = url(&format!("/api/generations/{id}/events"));
    let response = client.get(&events_url).bearer_auth(&key).send().await.expect("events");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"].to_str().expect("type"), "text/event-stream");
    let events = parse_sse(&response.text().await.expect("body"));
    let numbers: Vec<i64> = events.iter().map(|(id, _, _)| *id).collect();
    assert_eq!(numbers, (1..=events.len() as i64).collect::<Vec<_>>());
    let kinds: Vec<&str> = events.iter().map(|(_, kind, _)| kind.as_str()).collect();
    assert_eq!(kinds.first(), Some(&"queued"));
    assert_eq!(kinds.last(), Some(&"succeeded"));
    for expected in ["started", "step_started", "spec", "plan", "file_written", "capsule"] {
        assert!(kinds.contains(&expected), "{expected} missing from {kinds:?}");
    }

    // Replayed from any number: exactly the events after it.
    for after in 0..=events.len() {
        let resumed = client
            .get(&events_url)
            .bearer_auth(&key)
            .header("Last-Event-ID", after.to_string())
            .send()
            .await
            .expect("resume");
        let rest = parse_sse(&resumed.text().await.expect("body"));
        assert_eq!(rest, events[after..], "after {after}");
    }
    let by_query = client.get(format!("{events_url}?after=3")).bearer_auth(&key).send().await;
    let by_query = parse_sse(&by_query.expect("resume").text().await.expect("body"));
    assert_eq!(by_query, events[3..]);
    let bad = client.get(format!("{events_url}?after=three")).bearer_auth(&key).send().await;
    let bad = bad.expect("bad after");
    assert_eq!(bad.status(), 422);
    let bad: Value = bad.json().await.expect("a JSON error");
    assert_eq!((bad["kind"].as_str(), bad["field"].as_str()), (Some("invalid"), Some("after")));

    let status: Value = client
        .get(url(&format!("/api/generations/{id}")))
        .bearer_auth(&key)
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    assert_eq!(status["status"], "succeeded");
    assert_eq!(status["spec"]["name"], "todo");
    let roles: Vec<&str> = status["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["role"].as_str())
        .collect();
    assert_eq!(roles.first(), Some(&"planner"));
    assert_eq!(roles.last(), Some(&"packager"));
    let capsule = status["capsule_id"].as_str().expect("capsule id").to_owned();

    let download = client
        .get(url(&format!("/api/capsules/{capsule}")))
        .bearer_auth(&key)
        .send()
        .await
        .expect("download");
    assert_eq!(download.status(), 200);
    let header = download.headers()["x-ql-sha256"].to_str().expect("hash").to_owned();
    let archive = download.bytes().await.expect("bytes");
    assert_eq!(hex::encode(sha2::Sha256::digest(&archive)), header);
    ql_capsule::verify(&archive, &ql_capsule::Limits::default()).expect("verifies");
    // Nobody edited a file: the workspace's capsule is the generated one.
    let workspace = client
        .get(url(&format!("/api/generations/{id}/capsule")))
        .bearer_auth(&key)
        .send()
        .await
        .expect("download");
    assert_eq!(workspace.status(), 200);
    assert_eq!(workspace.headers()["x-ql-sha256"].to_str().expect("hash"), header);
    assert_eq!(workspace.bytes().await.expect("bytes"), archive);

    // Another organisation: every id is unknown.
    for path in [
        format!("/api/generations/{id}"),
        format!("/api/generations/{id}/events"),
        format!("/api/generations/{id}/capsule"),
        format!("/api/capsules/{capsule}"),
    ] {
        let answer = client.get(url(&path)).bearer_auth(&intruder).send().await.expect("get");
        assert_eq!(answer.status(), 404, "{path}");
        let error: Value = answer.json().await.expect("json");
        assert_eq!(error["kind"], "not_found", "{path}");
    }
    let cancel_url = url(&format!("/api/generations/{id}/cancel"));
    let foreign = client.post(&cancel_url).bearer_auth(&intruder).send().await.expect("cancel");
    assert_eq!(foreign.status(), 404);
    let finished = client.post(&cancel_url).bearer_auth(&key).send().await.expect("cancel");
    assert_eq!(finished.status(), 409);

    // A refinement: queued from the succeeded generation, followed to its end, linked to it.
    let refine_url = url(&format!("/api/generations/{id}/refine"));
    let instruction = json!({"instruction": "Todos also have a priority."});
    let foreign = client.post(&refine_url).bearer_auth(&intruder).json(&instruction).send().await;
    assert_eq!(foreign.expect("refine").status(), 404);
    let empty =
        client.post(&refine_url).bearer_auth(&key).json(&json!({"instruction": " "})).send();
    let empty = empty.await.expect("refine");
    assert_eq!(empty.status(), 422);
    let error: Value = empty.json().await.expect("json");
    assert_eq!(error["field"], "instruction");
    let refined = client.post(&refine_url).bearer_auth(&key).json(&instruction).send().await;
    let refined = refined.expect("refine");
    assert_eq!(refined.status(), 202);
    let refined: Value = refined.json().await.expect("json");
    let refined = refined["id"].as_str().expect("id").to_owned();
    let stream = client.get(url(&format!("/api/generations/{refined}/events"))).bearer_auth(&key);
    let stream = parse_sse(&stream.send().await.expect("events").text().await.expect("body"));
    assert_eq!(stream.last().map(|(_, kind, _)| kind.as_str()), Some("succeeded"));
    let status = client.get(url(&format!("/api/generations/{refined}"))).bearer_auth(&key).send();
    let status: Value = status.await.expect("status").json().await.expect("json");
    assert_eq!(
        (status["parent_id"].as_str(), status["instruction"].as_str()),
        (Some(id.as_str()), Some("Todos also have a priority."))
    );
    let fields: Vec<&str> = status["spec"]["entities"][0]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|field| field["name"].as_str())
        .collect();
    assert!(fields.contains(&"priority"), "{fields:?}");

    // Bad input and no key: clear JSON errors.
    let bad = submit(key.clone(), json!({"description": TODO, "stack": "cobol"})).await;
    assert_eq!(bad.status(), 422);
    let error: Value = bad.json().await.expect("json");
    assert_eq!((error["kind"].as_str(), error["field"].as_str()), (Some("invalid"), Some("stack")));
    let anonymous = client.get(url(&format!("/api/generations/{id}"))).send().await.expect("get");
    assert_eq!(anonymous.status(), 401);

    // A spec the person edited is built as given (names as typed become identifiers); one
    // that cannot be built is refused with the reason, before anything is queued.
    let ticket = json!({"name": "Help desk", "summary": "Tickets", "entities": [{
    "name": "Tickets", "plural": "", "operations": ["create", "list", "read"],
    "fields": [
        {"name": "Subject", "type": {"kind": "string"}, "required": true, "unique": false},
        {"name": "Severity", "type": {"kind": "enum", "values": ["low", "high"]}, "required": true, "unique": false}
    ]}]});
    let body =
        json!({"description": TODO, "stack": "python-fastapi", "run_tests": false, "spec": ticket});
    let given = submit(key.clone(), body).await;
    assert_eq!(given.status(), 202);
    let given: Value = given.json().await.expect("json");
    let given = given["id"].as_str().expect("id").to_owned();
    let stream = client.get(url(&format!("/api/generations/{given}/events"))).bearer_auth(&key);
    let stream = parse_sse(&stream.send().await.expect("events").text().await.expect("body"));
    assert_eq!(stream.last().map(|(_, kind, _)| kind.as_str()), Some("succeeded"));
    let status = client.get(url(&format!("/api/generations/{given}"))).bearer_auth(&key).send();
    let status: Value = status.await.expect("status").json().await.expect("json");
    assert_eq!(status["spec"]["name"], "help_desk");
    assert_eq!(
        (
            status["spec"]["entities"][0]["name"].as_str(),
            status["spec"]["entities"][0]["plural"].as_str()
        ),
        (Some("ticket"), Some("tickets"))
    );
    assert_eq!(status["spec"]["entities"][0]["fields"][1]["name"], "severity");
    let nameless = json!({"name": "x", "summary": "", "entities": [{"name": " ", "plural": "", "fields": []}]});
    let body = json!({"description": TODO, "stack": "python-fastapi", "spec": nameless});
    let refused = submit(key.clone(), body).await;
    assert_eq!(refused.status(), 422);
    let error: Value = refused.json().await.expect("json");
    assert_eq!(error["field"], "spec");
    assert_eq!(error["message"], "The spec: every entity needs a name.");

    // A connection dropped mid-stream (tests running in the sandbox) and resumed with the last
    // number it saw: together, the whole stream once.
    let body = json!({"description": TODO, "stack": "python-fastapi", "run_tests": true});
    let tested: Value = submit(key.clone(), body).await.json().await.expect("json");
    let tested = tested["id"].as_str().expect("id").to_owned();
    let tested_url = url(&format!("/api/generations/{tested}/events"));
    let mut seen = Vec::new();
    {
        let response = client.get(&tested_url).bearer_auth(&key).send().await.expect("events");
        let mut body = response.bytes_stream();
        let mut text = String::new();
        while seen.len() < 4 {
            let chunk = body.next().await.expect("more events").expect("chunk");
            text.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = text.find("\n\n") {
                let block: String = text.drain(..end + 2).collect();
                seen.extend(parse_sse_block(block.trim_end()));
            }
        }
    }
    let last = seen.last().map(|(seq, _, _)| *seq).expect("a last number");
    let rest = client
        .get(&tested_url)
        .bearer_auth(&key)
        .header("Last-Event-ID", last.to_string())
        .send()
        .await
        .expect("reconnect");
    seen.extend(parse_sse(&rest.text().await.expect("body")));
    let numbers: Vec<i64> = seen.iter().map(|(seq, _, _)| *seq).collect();
    assert_eq!(numbers, (1..=seen.len() as i64).collect::<Vec<_>>());
    let tests = seen.iter().find(|(_, kind, _)| kind == "tests").expect("a tests event");
    assert_eq!(tests.2["skipped"], false);
    // Each test of the suite is an event of its own, before the summary.
    let results: Vec<&Value> =
        seen.iter().filter(|(_, kind, _)| kind == "test_result").map(|(_, _, data)| data).collect();
    assert_eq!(Some(results.len() as u64), tests.2["report"]["passed"].as_u64(), "{results:?}");
    assert!(results.iter().all(|case| case["outcome"] == "passed" && case["name"].is_string()));
    assert_eq!(seen.last().map(|(_, kind, _)| kind.as_str()), Some("succeeded"), "{seen:?}");

    // A generation cancelled at once ends its stream with `cancelled`, saying who.
    let body = json!({"description": TODO, "stack": "python-fastapi"});
    let second: Value = submit(key.clone(), body).await.json().await.expect("json");
    let second = second["id"].as_str().expect("id").to_owned();
    let cancelled = client
        .post(url(&format!("/api/generations/{second}/cancel")))
        .bearer_auth(&key)
        .send()
        .await
        .expect("cancel");
    assert_eq!(cancelled.status(), 200);
    let events = client
        .get(url(&format!("/api/generations/{second}/events")))
        .bearer_auth(&key)
        .send()
        .await
        .expect("events");
    let events = parse_sse(&events.text().await.expect("body"));
    assert_eq!(events.last().map(|(_, kind, _)| kind.as_str()), Some("cancelled"));
    assert!(events.last().is_some_and(|(_, _, data)| data["by"].is_string()));
}
