//! The sandbox against what generated code might try: the network, the host's files, other
//! users' rights, endless loops, floods of output, huge files.

use std::time::Duration;

use super::*;

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, contents) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(path, contents).expect("write");
    }
    dir
}

fn job(dir: &Path, command: &[&str]) -> Job {
    Job {
        project: dir.to_owned(),
        command: command.iter().map(|part| (*part).to_owned()).collect(),
        env: vec![("APP_MODE".into(), "test".into())],
        read_only: Vec::new(),
        project_mounts: Vec::new(),
        copies: Vec::new(),
        path: Vec::new(),
        limits: Limits { wall: Duration::from_secs(20), ..Limits::default() },
    }
}

fn shell(dir: &Path, script: &str) -> Job {
    job(dir, &["sh", "-c", script])
}

fn python(dir: &Path, code: &str) -> Job {
    job(dir, &["/usr/bin/python3", "-I", "-c", code])
}

#[tokio::test]
async fn a_command_runs_on_a_copy_and_its_files_can_be_read_back() {
    let dir = project(&[("src/input.txt", "data")]);
    let outcome = run(&job(
        dir.path(),
        &["sh", "-c", "cat src/input.txt; echo written > out.txt; echo $APP_MODE; env | sort"],
    ))
    .await
    .expect("run");
    assert!(outcome.success(), "{outcome:?}");
    assert!(outcome.stdout.starts_with("datatest\n"), "{}", outcome.stdout);
    let environment: Vec<&str> =
        outcome.stdout.lines().skip(1).map(|line| line.split('=').next().unwrap_or("")).collect();
    for name in &environment {
        assert!(
            ["APP_MODE", "HOME", "LANG", "PATH", "PWD", "SHLVL", "TMPDIR", "_"].contains(name),
            "leaked {name}: {environment:?}"
        );
    }
    assert_eq!(std::fs::read_to_string(outcome.file("out.txt")).expect("out"), "written\n");
    assert!(!dir.path().join("out.txt").exists(), "the project itself is untouched");
}

#[tokio::test]
async fn the_network_and_the_hosts_files_are_out_of_reach() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let port = listener.local_addr().expect("address").port();
    let dir = project(&[]);
    let code = format!(
        r#"
import os, socket
def attempt(label, fn):
    try:
        fn(); print("ALLOWED", label)
    except Exception as error:
        print("BLOCKED", label, type(error).__name__)
attempt("tcp", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=2))
attempt("dns", lambda: socket.getaddrinfo("example.com", 80))
attempt("write /usr", lambda: open("/usr/pwned", "w"))
attempt("write parent", lambda: open("../escape", "w"))
attempt("read /etc/passwd", lambda: open("/etc/passwd").read())
attempt("list /root", lambda: os.listdir("/root"))
attempt("setuid 0", lambda: os.setuid(0))
attempt("write own dir", lambda: open("own.txt", "w").write("x"))
attempt("write /tmp", lambda: open("/tmp/x", "w").write("x"))
print("pid", os.getpid())
"#
    );
    let outcome = run(&python(dir.path(), &code)).await.expect("run");
    let out = &outcome.stdout;
    for blocked in
        ["tcp", "dns", "write /usr", "write parent", "read /etc/passwd", "list /root", "setuid 0"]
    {
        assert!(
            out.contains(&format!("BLOCKED {blocked} ")),
            "{blocked} was not blocked:\n{out}\n{}",
            outcome.stderr
        );
    }
    for allowed in ["write own dir", "write /tmp"] {
        assert!(out.contains(&format!("ALLOWED {allowed}")), "{allowed}:\n{out}");
    }
    assert!(out.contains("pid 2") || out.contains("pid 1"), "a pid namespace of its own:\n{out}");
    if command::running_as_root() {
        let outcome = run(&job(dir.path(), &["id", "-u"])).await.expect("run");
        assert_eq!(outcome.stdout.trim(), "65534");
    }
}

#[tokio::test]
async fn wall_time_output_and_file_size_are_limited() {
    let dir = project(&[]);
    let mut sleeper = job(dir.path(), &["sleep", "30"]);
    sleeper.limits.wall = Duration::from_secs(1);
    let outcome = run(&sleeper).await.expect("run");
    assert!(outcome.timed_out && outcome.code.is_none(), "{outcome:?}");
    assert!(outcome.elapsed < Duration::from_secs(10));

    let mut flood = job(dir.path(), &["sh", "-c", "head -c 5000000 /dev/zero | tr '\\0' x"]);
    flood.limits.output_bytes = 1000;
    let outcome = run(&flood).await.expect("run");
    assert!(outcome.truncated && outcome.stdout.len() == 1000, "{}", outcome.stdout.len());

    let mut writer = job(dir.path(), &["sh", "-c", "head -c 5000000 /dev/zero > big.bin"]);
    writer.limits.file_mib = 1;
    let outcome = run(&writer).await.expect("run");
    assert!(!outcome.success());
    let written = std::fs::metadata(outcome.file("big.bin")).map(|m| m.len()).unwrap_or(0);
    assert!(written <= 1024 * 1024, "{written}");

    let mut spinner = python(dir.path(), "while True: pass");
    spinner.limits.cpu_seconds = 1;
    let outcome = run(&spinner).await.expect("run");
    assert!(!outcome.success() && !outcome.timed_out, "the CPU limit ends it first: {outcome:?}");
}

#[tokio::test]
async fn links_and_oversized_projects_are_refused() {
    let dir = project(&[("a.txt", "x")]);
    std::os::unix::fs::symlink("/etc/passwd", dir.path().join("passwd")).expect("link");
    assert!(matches!(run(&job(dir.path(), &["true"])).await, Err(SandboxError::Copy(_))));
    let dir = project(&[("a.txt", "x"), ("b.txt", "y")]);
    let mut small = job(dir.path(), &["true"]);
    small.limits.project_files = 1;
    assert!(matches!(run(&small).await, Err(SandboxError::TooLarge(_))));
}

#[tokio::test]
async fn a_dependency_directory_is_mounted_read_only_inside_the_project() {
    let dependencies = project(&[("left-pad/index.js", "module")]);
    // The sandbox's user must be able to enter it, as it can the dependency cache.
    for path in [dependencies.path().to_owned(), dependencies.path().join("left-pad")] {
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("permissions");
    }
    std::fs::set_permissions(
        dependencies.path().join("left-pad/index.js"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .expect("permissions");
    let dir = project(&[("main.js", "code")]);
    let mut mounted = shell(
        dir.path(),
        "cat node_modules/left-pad/index.js; echo x > node_modules/new || echo refused",
    );
    mounted.project_mounts = vec![(dependencies.path().to_owned(), "node_modules".into())];
    let outcome = run(&mounted).await.expect("run");
    assert!(outcome.stdout.starts_with("module"), "{outcome:?}");
    assert!(outcome.stdout.contains("refused"), "{outcome:?}");
    assert!(!dependencies.path().join("new").exists());

    // A copied directory can be written to; the original stays as it was.
    let mut copied = shell(
        dir.path(),
        "cat cache/left-pad/index.js && echo more >> cache/left-pad/index.js && cat cache/left-pad/index.js",
    );
    copied.copies = vec![(dependencies.path().to_owned(), "cache".into())];
    let outcome = run(&copied).await.expect("run");
    assert!(outcome.success(), "{outcome:?}");
    assert_eq!(outcome.stdout, "modulemodulemore\n");
    assert_eq!(
        std::fs::read_to_string(dependencies.path().join("left-pad/index.js")).expect("read"),
        "module"
    );

    for escape in ["../outside", "/etc", "", "a/../../b"] {
        mounted.project_mounts = vec![(dependencies.path().to_owned(), escape.into())];
        let refused = run(&mounted).await;
        assert!(matches!(refused, Err(SandboxError::Start(_))), "{escape}: {refused:?}");
    }
}
