//! The command line that builds the sandbox: `setpriv` (as root) → `prlimit` → `bwrap` →
//! the job's command.

use std::path::Path;

use crate::{Job, SANDBOX_ROOT};

/// The uid and gid the command runs as when we are root.
pub const SANDBOX_UID: u32 = 65534;

pub fn running_as_root() -> bool {
    // The effective uid, from /proc (no libc call needed).
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find(|line| line.starts_with("Uid:")).and_then(|line| {
                line.split_whitespace().nth(2).and_then(|uid| uid.parse::<u32>().ok())
            })
        })
        .is_some_and(|uid| uid == 0)
}

/// The whole argument vector, program first.
pub fn arguments(job: &Job, bwrap: &Path, run_dir: &Path) -> Vec<String> {
    let limits = &job.limits;
    let mut out: Vec<String> = Vec::new();
    let mut push = |items: &[&str]| out.extend(items.iter().map(|item| (*item).to_owned()));
    if running_as_root() {
        let id = SANDBOX_UID.to_string();
        push(&["/usr/bin/setpriv", "--reuid", &id, "--regid", &id, "--clear-groups"]);
        push(&["--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]);
    }
    let cpu = format!("--cpu={}:{}", limits.cpu_seconds, limits.cpu_seconds + 1);
    let address_space = format!("--as={}", limits.memory_mib * 1024 * 1024);
    let file_size = format!("--fsize={}", limits.file_mib * 1024 * 1024);
    let processes = format!("--nproc={}", limits.processes);
    push(&["/usr/bin/prlimit", &cpu, &address_space, &file_size, &processes]);
    push(&["--nofile=1024", "--core=0", "--"]);
    let bwrap = bwrap.display().to_string();
    push(&[&bwrap, "--unshare-all", "--unshare-user", "--disable-userns"]);
    push(&["--die-with-parent", "--new-session"]);
    push(&["--cap-drop", "ALL", "--hostname", "sandbox"]);
    push(&["--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin"]);
    push(&["--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64"]);
    push(&["--symlink", "usr/sbin", "/sbin"]);
    push(&["--ro-bind-try", "/etc/alternatives", "/etc/alternatives"]);
    push(&["--ro-bind-try", "/etc/ssl", "/etc/ssl"]);
    push(&["--ro-bind-try", "/etc/localtime", "/etc/localtime"]);
    push(&["--proc", "/proc", "--dev", "/dev"]);
    let tmp_size = (limits.tmp_mib * 1024 * 1024).to_string();
    push(&["--size", &tmp_size, "--tmpfs", "/tmp"]);
    for directory in &job.read_only {
        let directory = directory.display().to_string();
        push(&["--ro-bind", &directory, &directory]);
    }
    let run_dir = run_dir.display().to_string();
    push(&["--bind", &run_dir, SANDBOX_ROOT]);
    for (host, relative) in &job.project_mounts {
        let host = host.display().to_string();
        let inside = format!("{SANDBOX_ROOT}/{relative}");
        push(&["--ro-bind", &host, &inside]);
    }
    push(&["--chdir", SANDBOX_ROOT, "--remount-ro", "/"]);
    let mut path: Vec<String> = job.path.iter().map(|dir| dir.display().to_string()).collect();
    path.push("/usr/bin".into());
    let path = path.join(":");
    push(&["--clearenv", "--setenv", "PATH", &path, "--setenv", "HOME", SANDBOX_ROOT]);
    push(&["--setenv", "LANG", "C.UTF-8", "--setenv", "TMPDIR", "/tmp"]);
    for (name, value) in &job.env {
        push(&["--setenv", name, value]);
    }
    push(&["--"]);
    out.extend(job.command.iter().cloned());
    out
}
