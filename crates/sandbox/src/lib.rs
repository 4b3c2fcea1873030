//! The sandbox for code we did not write: a generated app's tests run here, never on the host.
//!
//! A [`Job`] names a project directory, a command and read-only directories it may use (a
//! dependency cache). [`run`] copies the project into a private run directory and runs the
//! command in bubblewrap with every namespace unshared (no network: only a private loopback),
//! the host's `/usr` read-only and nothing else of it, a size-capped private `/tmp`, a clean
//! environment, and rlimits on CPU time, address space, file size, open files and processes,
//! under a wall-clock limit, with output capped. As root it first drops to uid 65534 with no
//! capabilities (`setpriv`). The run directory is handed back, so results written there
//! (coverage, JUnit XML) can be read.

mod command;
mod copy;

pub use command::running_as_root;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};

/// What went wrong before or around the sandboxed command (its own failure is an [`Outcome`]).
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("bubblewrap is not installed (Debian: apt-get install bubblewrap)")]
    Unavailable,
    #[error("the project cannot be copied into the sandbox: {0}")]
    Copy(String),
    #[error("the project is over the sandbox's limit: {0}")]
    TooLarge(String),
    #[error("the sandbox could not start: {0}")]
    Start(String),
}

/// Limits on one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub wall: Duration,
    pub cpu_seconds: u64,
    /// Address space, in MiB (runtimes that reserve large ranges need more).
    pub memory_mib: u64,
    /// Processes and threads of the sandbox user.
    pub processes: u64,
    /// Largest file the command may write, in MiB.
    pub file_mib: u64,
    /// Size of the private `/tmp`, in MiB.
    pub tmp_mib: u64,
    /// Bytes kept of stdout and of stderr each; the rest is read and dropped.
    pub output_bytes: usize,
    /// Bytes and files of the project copied in.
    pub project_bytes: u64,
    pub project_files: usize,
}

/// The limits a job gets unless it says otherwise.
pub(crate) const DEFAULT_LIMITS: Limits = Limits {
    wall: Duration::from_secs(120),
    cpu_seconds: 120,
    memory_mib: 2048,
    processes: 256,
    file_mib: 64,
    tmp_mib: 256,
    output_bytes: 1024 * 1024,
    project_bytes: 64 * 1024 * 1024,
    project_files: 5_000,
};

impl Default for Limits {
    fn default() -> Self {
        DEFAULT_LIMITS
    }
}

/// One command to run on a copy of a project.
#[derive(Debug, Clone)]
pub struct Job {
    /// The project; copied, never changed.
    pub project: PathBuf,
    /// The program and its arguments, run from the copy's root (`/sandbox`).
    pub command: Vec<String>,
    /// Environment variables (the environment is otherwise empty but for PATH, HOME, LANG and
    /// TMPDIR).
    pub env: Vec<(String, String)>,
    /// Host directories the command may read, bound at the same path (dependency caches).
    pub read_only: Vec<PathBuf>,
    /// Host directories bound read-only inside the project's copy, at a relative path
    /// (`node_modules`); the path may not leave the project.
    pub project_mounts: Vec<(PathBuf, String)>,
    /// Host directories copied into the project's copy at a relative path before the run, to
    /// be written to (a cache of compiled dependencies); trusted, so not held to the project's
    /// limits, and never written back.
    pub copies: Vec<(PathBuf, String)>,
    /// Directories put in front of `/usr/bin` in PATH.
    pub path: Vec<PathBuf>,
    pub limits: Limits,
}

/// How a run ended.
#[derive(Debug)]
pub struct Outcome {
    /// The exit code, when the command exited (not when it was killed).
    pub code: Option<i32>,
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
    /// Whether either output was cut at the limit.
    pub truncated: bool,
    pub elapsed: Duration,
    /// The project's copy after the run (`/sandbox` inside), removed when dropped.
    pub run_dir: tempfile::TempDir,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.code == Some(0) && !self.timed_out
    }

    /// The path of a file the command wrote, relative to the project's root.
    pub fn file(&self, relative: &str) -> PathBuf {
        self.run_dir.path().join(relative)
    }
}

/// Where bubblewrap is, if installed.
pub fn bubblewrap() -> Option<PathBuf> {
    ["/usr/bin/bwrap", "/bin/bwrap"].into_iter().map(PathBuf::from).find(|path| path.exists())
}

/// Runs the job in the sandbox.
pub async fn run(job: &Job) -> Result<Outcome, SandboxError> {
    let bwrap = bubblewrap().ok_or(SandboxError::Unavailable)?;
    if job.command.is_empty() {
        return Err(SandboxError::Start("no command".into()));
    }
    for (_, relative) in job.project_mounts.iter().chain(&job.copies) {
        let inside = Path::new(relative);
        let plain = !relative.is_empty()
            && inside.components().all(|part| matches!(part, std::path::Component::Normal(_)));
        if !plain {
            return Err(SandboxError::Start(format!(
                "`{relative}` is not a path inside the project"
            )));
        }
    }
    let run_dir = tempfile::Builder::new()
        .prefix("ql-sandbox-")
        .tempdir()
        .map_err(|error| SandboxError::Copy(error.to_string()))?;
    let project = job.project.clone();
    let target = run_dir.path().to_owned();
    let limits = job.limits;
    let copies = job.copies.clone();
    tokio::task::spawn_blocking(move || copy::project(&project, &target, &limits, &copies))
        .await
        .map_err(|error| SandboxError::Copy(error.to_string()))??;

    let arguments = command::arguments(job, &bwrap, run_dir.path());
    let started = Instant::now();
    let mut child = tokio::process::Command::new(&arguments[0])
        .args(&arguments[1..])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| SandboxError::Start(format!("{}: {error}", arguments[0])))?;
    let stdout = child.stdout.take().map(|out| tokio::spawn(read_capped(out, limits.output_bytes)));
    let stderr = child.stderr.take().map(|err| tokio::spawn(read_capped(err, limits.output_bytes)));
    let (code, timed_out) = match tokio::time::timeout(limits.wall, child.wait()).await {
        Ok(status) => {
            (status.map_err(|error| SandboxError::Start(error.to_string()))?.code(), false)
        }
        Err(_) => {
            // bwrap dies with its parent chain and takes its pid namespace with it.
            let _ = child.kill().await;
            (None, true)
        }
    };
    let collect = |task: Option<tokio::task::JoinHandle<(String, bool)>>| async move {
        match task {
            Some(task) => tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default(),
            None => Default::default(),
        }
    };
    let (stdout, cut_out) = collect(stdout).await;
    let (stderr, cut_err) = collect(stderr).await;
    if command::running_as_root() {
        // Hand the copy back to us so that it can be read and removed.
        let _ = copy::chown_tree(run_dir.path(), 0, 0);
    }
    Ok(Outcome {
        code,
        timed_out,
        stdout,
        stderr,
        truncated: cut_out || cut_err,
        elapsed: started.elapsed(),
        run_dir,
    })
}

/// Reads everything, keeping the first `limit` bytes as lossy UTF-8.
async fn read_capped(mut reader: impl AsyncRead + Unpin, limit: usize) -> (String, bool) {
    let mut kept = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    let mut truncated = false;
    loop {
        match reader.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => {
                let room = limit.saturating_sub(kept.len());
                kept.extend_from_slice(&buffer[..read.min(room)]);
                truncated |= read > room;
            }
        }
    }
    (String::from_utf8_lossy(&kept).into_owned(), truncated)
}

/// The root inside the sandbox where the project's copy is.
pub const SANDBOX_ROOT: &str = "/sandbox";

/// A path under the sandbox root, as the command sees it.
pub fn inside(relative: &str) -> PathBuf {
    Path::new(SANDBOX_ROOT).join(relative)
}

#[cfg(test)]
mod tests;
