//! The CPU priority of a process that only runs generations. Generations are batch work;
//! web processes serve pages and event streams to people waiting on them. On a machine that
//! runs both, a worker with a higher nice value leaves the web processes the CPU when they
//! need it (an event reaches its subscriber sooner) and takes the rest.

/// Lowers this process's CPU priority to `nice` (clamped to 0..=19; 0 leaves it). Call it
/// before starting threads: on Linux each thread has its own value, inherited from the
/// thread that starts it.
pub fn yield_to_interactive_work(nice: i32) {
    let nice = nice.clamp(0, 19);
    if nice == 0 {
        return;
    }
    match rustix::process::setpriority_process(None, nice) {
        Ok(()) => tracing::info!(nice, "worker process priority lowered"),
        Err(error) => tracing::warn!(%error, nice, "cannot lower the worker's priority"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_worker_thread_yields_and_its_threads_inherit_it() {
        // In a thread of its own, so that the test harness's other threads keep theirs.
        let (own, child) = std::thread::spawn(|| {
            let before = rustix::process::getpriority_process(None).unwrap_or_default();
            super::yield_to_interactive_work(before + 5);
            let own = rustix::process::getpriority_process(None).unwrap_or_default() - before;
            let child = std::thread::spawn(|| rustix::process::getpriority_process(None))
                .join()
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default()
                - before;
            (own, child)
        })
        .join()
        .unwrap_or_default();
        assert_eq!((own, child), (5, 5));
    }
}
