//! The HTTP surface, called in-process through the router with `oneshot`.

#![expect(clippy::expect_used, reason = "a test fails loudly at the first broken step")]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use leptos::server_fn::ServerFn;
use server::config::Config;
use tower::ServiceExt;

const ORIGIN: &str = "http://127.0.0.1:3000";

struct TestApp {
    router: Router,
    cookie: Option<String>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config {
            data_dir: dir.path().to_owned(),
            site_root: dir.path().join("site"),
            ..Config::default()
        };
        let services = server::open_services(&config).await.expect("services");
        Self { router: server::http_router(services, &config), cookie: None, _dir: dir }
    }

    async fn send(&mut self, request: Request<Body>) -> Response<Body> {
        let response = self.router.clone().oneshot(request).await.expect("infallible");
        if let Some(cookie) = response.headers().get(header::SET_COOKIE) {
            let pair = cookie.to_str().expect("ascii").split(';').next().expect("pair");
            self.cookie = Some(pair.to_owned());
        }
        response
    }

    fn get(&self, path: &str) -> Request<Body> {
        let mut request = Request::get(path).header(header::HOST, "127.0.0.1:3000");
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        request.body(Body::empty()).expect("request")
    }

    /// A same-origin form POST, as the browser sends for a server function.
    fn post(&self, path: &str, form: &str, origin: Option<&str>) -> Request<Body> {
        let mut request = Request::post(path)
            .header(header::HOST, "127.0.0.1:3000")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header(header::CONTENT_LENGTH, form.len());
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        request.body(Body::from(form.to_owned())).expect("request")
    }

    async fn signed_in() -> Self {
        let mut app = Self::new().await;
        let response =
            app.send(app.post(app::api::session::SignInLocal::PATH, "", Some(ORIGIN))).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(app.cookie.is_some(), "sign-in sets the session cookie");
        app
    }

    async fn create_project(&mut self, name: &str) -> (StatusCode, serde_json::Value) {
        let form = format!("name={}&description=", urlencode(name));
        let response = self
            .send(self.post(app::api::projects::CreateProject::PATH, &form, Some(ORIGIN)))
            .await;
        let status = response.status();
        (status, json(response).await)
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn text(response: Response<Body>) -> String {
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

async fn json(response: Response<Body>) -> serde_json::Value {
    serde_json::from_str(&text(response).await).expect("json")
}

#[tokio::test]
async fn health_and_readiness() {
    let mut app = TestApp::new().await;
    let response = app.send(app.get("/healthz")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    assert_eq!(response.headers()["x-request-id"].len(), 36, "a UUID per request");
    assert_eq!(text(response).await, "ok");
    let response = app.send(app.get("/readyz")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text(response).await, "ready");
}

#[tokio::test]
async fn signed_out_pages_redirect_to_login() {
    let mut app = TestApp::new().await;
    for path in ["/", "/projects", "/audit", "/no-such-page"] {
        let response = app.send(app.get(path)).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(response.headers()[header::LOCATION], "/login", "{path}");
    }
    let response = app.send(app.get("/login")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(text(response).await.contains("Continue as local user"));
}

#[tokio::test]
async fn server_functions_refuse_anonymous_callers() {
    let mut app = TestApp::new().await;
    let (status, body) = app.create_project("Sneaky").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["kind"], "unauthenticated");
}

#[tokio::test]
async fn signed_in_pages_render_and_unknown_urls_are_404() {
    let mut app = TestApp::signed_in().await;
    let response = app.send(app.get("/login")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "signed-in users skip the login page");
    let response = app.send(app.get("/projects")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = text(response).await;
    assert!(html.contains("New project"), "{html}");
    assert!(html.contains("Local mode"), "{html}");
    let response = app.send(app.get("/no-such-page")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(text(response).await.contains("Page not found"));
}

#[tokio::test]
async fn projects_are_created_listed_and_audited() {
    let mut app = TestApp::signed_in().await;
    let (status, project) = app.create_project("Library").await;
    assert_eq!(status, StatusCode::OK, "{project}");
    assert_eq!(project["name"], "Library");

    let response =
        app.send(app.post(app::api::projects::ListProjects::PATH, "", Some(ORIGIN))).await;
    let listed = json(response).await;
    assert_eq!(listed[0]["name"], "Library");

    let response =
        app.send(app.post(app::api::audit::ListAudit::PATH, "limit=10", Some(ORIGIN))).await;
    let audit = json(response).await;
    let actions: Vec<_> =
        audit.as_array().expect("list").iter().map(|e| e["action"].clone()).collect();
    assert_eq!(actions, ["project.create", "session.sign_in"]);
}

#[tokio::test]
async fn bad_project_names_are_field_errors() {
    let mut app = TestApp::signed_in().await;
    let cases = [
        (String::new(), "Give the project a name."),
        ("x".repeat(300), "The name is 300 characters long; the limit is 100."),
    ];
    for (name, message) in cases {
        let (status, body) = app.create_project(&name).await;
        assert_ne!(status, StatusCode::OK);
        assert_eq!(body["kind"], "invalid");
        assert_eq!(body["field"], "name");
        assert_eq!(body["message"], message);
    }
    app.create_project("Twin").await;
    let (status, body) = app.create_project("Twin").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["kind"], "conflict");
}

#[tokio::test]
async fn cross_site_posts_are_refused_and_change_nothing() {
    let mut app = TestApp::signed_in().await;
    for origin in [Some("http://evil.example"), None] {
        let request =
            app.post(app::api::projects::CreateProject::PATH, "name=Evil&description=", origin);
        let response = app.send(request).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "origin {origin:?}");
    }
    let response =
        app.send(app.post(app::api::projects::ListProjects::PATH, "", Some(ORIGIN))).await;
    assert_eq!(json(response).await, serde_json::json!([]));
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let mut app = TestApp::signed_in().await;
    let huge = format!("name={}&description=", "a".repeat(3 * 1024 * 1024));
    let response =
        app.send(app.post(app::api::projects::CreateProject::PATH, &huge, Some(ORIGIN))).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let mut app = TestApp::signed_in().await;
    let response = app.send(app.post(app::api::session::SignOut::PATH, "", Some(ORIGIN))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app.send(app.get("/projects")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn projects_are_renamed_and_deleted_with_audit_rows() {
    let mut app = TestApp::signed_in().await;
    let (_, project) = app.create_project("Library").await;
    let id = project["id"].as_str().expect("id").to_owned();

    let form = format!("id={id}&name=Lending+library&description=loans");
    let response =
        app.send(app.post(app::api::projects::UpdateProject::PATH, &form, Some(ORIGIN))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json(response).await["name"], "Lending library");

    let form = format!("id={id}&name=&description=");
    let response =
        app.send(app.post(app::api::projects::UpdateProject::PATH, &form, Some(ORIGIN))).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let form = format!("id={id}");
    let response =
        app.send(app.post(app::api::projects::DeleteProject::PATH, &form, Some(ORIGIN))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response =
        app.send(app.post(app::api::projects::DeleteProject::PATH, &form, Some(ORIGIN))).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let response =
        app.send(app.post(app::api::projects::ListProjects::PATH, "", Some(ORIGIN))).await;
    assert_eq!(json(response).await, serde_json::json!([]));
    let response =
        app.send(app.post(app::api::audit::ListAudit::PATH, "limit=3", Some(ORIGIN))).await;
    let audit = json(response).await;
    let actions: Vec<_> =
        audit.as_array().expect("list").iter().map(|e| e["action"].clone()).collect();
    assert_eq!(actions, ["project.delete", "project.update", "project.create"]);
    assert_eq!(audit[1]["target"], "project \"Lending library\"");
}

async fn analyze(app: &mut TestApp, body: &str) -> (StatusCode, serde_json::Value) {
    let response = app.send(app.post("/api/analyze", body, Some(ORIGIN))).await;
    let status = response.status();
    (status, json(response).await)
}

#[tokio::test]
async fn analyze_api_answers_the_cli_schema() {
    let mut app = TestApp::signed_in().await;
    let snippet = serde_json::json!({
        "path": "run.py",
        "content": "import os\ndef run(p):\n    os.system('ls ' + p)\n",
    });
    let (status, report) = analyze(&mut app, &snippet.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["schema"], "quantumlayer.analysis/v1");
    assert_eq!(report["files"][0]["language"], "python");
    assert_eq!(report["files"][0]["findings"][0]["rule"], "py.os-system");

    let typed = serde_json::json!({ "content": "fn main() {}\n", "language": "rust" });
    let (status, report) = analyze(&mut app, &typed.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["files"][0]["language"], "rust");

    let files = serde_json::json!({ "files": [
        { "path": "a.js", "content": "function a(x) { return x ? 1 : 2; }\n" },
        { "path": "b.go", "content": "package b\nfunc B() {}\n" },
        { "path": "c.txt", "content": "plain text" },
    ]});
    let (status, report) = analyze(&mut app, &files.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["totals"]["files"], 2);
    assert_eq!(report["unknown_language"], 1);
}

#[tokio::test]
async fn analyze_api_limits_and_bad_requests() {
    let mut app = TestApp::signed_in().await;
    let too_many: Vec<_> = (0..2_001)
        .map(|i| serde_json::json!({ "path": format!("f{i}.py"), "content": "x = 1\n" }))
        .collect();
    let big_file = serde_json::json!({ "path": "big.py", "content": "#".repeat(1024 * 1024 + 1) });
    let huge: Vec<_> = (0..21)
        .map(
            |i| serde_json::json!({ "path": format!("f{i}.py"), "content": "#".repeat(1_000_000) }),
        )
        .collect();
    let cases = [
        (
            serde_json::json!({ "files": too_many }).to_string(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "2001 files is over the limit of 2000 a request",
        ),
        (
            big_file.to_string(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "big.py is over the limit of 1 MiB a file",
        ),
        (
            serde_json::json!({ "files": huge }).to_string(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request is over 20 MiB; send fewer files per request",
        ),
        (
            "{not json".to_owned(),
            StatusCode::BAD_REQUEST,
            "invalid request: key must be a string at line 1 column 2",
        ),
        (
            serde_json::json!({ "content": "x", "files": [] }).to_string(),
            StatusCode::BAD_REQUEST,
            "send either `content` (with an optional `path` and `language`) or `files` alone",
        ),
        (
            serde_json::json!({ "content": "x", "language": "cobol" }).to_string(),
            StatusCode::BAD_REQUEST,
            "unknown language `cobol`",
        ),
        (
            serde_json::json!({ "files": [] }).to_string(),
            StatusCode::BAD_REQUEST,
            "`files` is empty",
        ),
    ];
    for (body, status, message) in cases {
        let (got, answer) = analyze(&mut app, &body).await;
        assert_eq!((got, answer["error"].as_str()), (status, Some(message)));
    }
}

#[tokio::test]
async fn analyze_api_needs_a_session() {
    let mut app = TestApp::new().await;
    let (status, answer) = analyze(&mut app, r#"{"content": "x = 1"}"#).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer["error"], "sign in first");
}

#[tokio::test]
async fn editor_buffers_are_analysed_by_a_server_function() {
    let mut app = TestApp::signed_in().await;
    let form =
        format!("path=app.py&content={}", urlencode("def f(x):\n    return eval(x)\n\ndef g(:\n"));
    let response =
        app.send(app.post(app::api::analysis::AnalyzeBuffer::PATH, &form, Some(ORIGIN))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let analysis = json(response).await;
    assert_eq!(analysis["language"], "python");
    assert_eq!(analysis["functions"][0]["name"], "f");
    let problems = analysis["problems"].as_array().expect("problems");
    assert!(problems.iter().any(|p| p["severity"] == "error" && p["line"] == 4), "{problems:?}");
    assert!(problems.iter().any(|p| p["rule"] == "py.eval" && p["line"] == 2), "{problems:?}");

    let form = "path=notes.txt&content=hello";
    let response =
        app.send(app.post(app::api::analysis::AnalyzeBuffer::PATH, form, Some(ORIGIN))).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(response).await["message"], "no analyzer for notes.txt");
}

/// A database that stopped answering.
struct Unreachable;

#[async_trait::async_trait]
impl ql_store::HealthCheck for Unreachable {
    async fn ping(&self) -> ql_store::Result<()> {
        Err(ql_store::StoreError::Database(sqlx::Error::PoolTimedOut))
    }
}

#[tokio::test]
async fn readiness_fails_when_the_database_does_not_answer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        data_dir: dir.path().to_owned(),
        site_root: dir.path().join("site"),
        ..Config::default()
    };
    let services = server::open_services(&config).await.expect("services");
    let mut store = services.store().clone();
    store.health = std::sync::Arc::new(Unreachable);
    let gateway = ql_router::build::gateway(
        &Default::default(),
        &|_| None,
        &ql_engine::builtin_model::provider,
    )
    .expect("gateway");
    let services = ql_services::Services::new(store, ql_services::AuthMode::Local, gateway);
    let router = server::http_router(services, &config);
    let request = Request::get("/readyz").body(Body::empty()).expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(text(response).await, "database unreachable");
    let request = Request::get("/healthz").body(Body::empty()).expect("request");
    assert_eq!(router.oneshot(request).await.expect("infallible").status(), StatusCode::OK);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_same_site_and_renewed_at_sign_in() {
    let mut app = TestApp::new().await;
    // A session id planted before sign-in (session fixation) must not survive it.
    app.cookie = Some("ql_session=planted-by-someone-else".to_owned());
    let response = app.send(app.post(app::api::session::SignInLocal::PATH, "", Some(ORIGIN))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()[header::SET_COOKIE].to_str().expect("ascii").to_owned();
    assert!(cookie.starts_with("ql_session="), "{cookie}");
    assert!(!cookie.starts_with("ql_session=planted"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
}
