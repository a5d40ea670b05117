//! Shared by the integration tests: the daemon they run against (started by
//! ../run-tests.sh) and its log.
#![allow(dead_code)]

use std::io::Read;
use std::time::{Duration, Instant};

/// Checks that a daemon is reachable at $DIOS_SOCKET; a clear failure if not.
/// A daemon just started holds connections in its backlog until its JIT
/// warm-up is done (seconds on a loaded machine), and the shim gives up on a
/// registration after 10 s (a later call tries again): so this tries for a
/// minute.
pub fn daemon() {
    let sock = std::env::var("DIOS_SOCKET").unwrap_or_default();
    assert!(
        !sock.is_empty(),
        "these tests need a running diosd: run libdlibc-shim/rust/run-tests.sh (it starts one and sets DIOS_SOCKET)"
    );
    let t0 = Instant::now();
    while let Err(e) = dios::nop() {
        if t0.elapsed() > Duration::from_secs(60) {
            panic!("no diosd answers at DIOS_SOCKET={sock} within 60 s: {e}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The daemon's log so far ($DIOS_TEST_DAEMON_LOG, set by run-tests.sh).
pub fn daemon_log() -> String {
    let path = std::env::var("DIOS_TEST_DAEMON_LOG")
        .expect("DIOS_TEST_DAEMON_LOG is not set: run libdlibc-shim/rust/run-tests.sh");
    let mut s = String::new();
    std::fs::File::open(&path)
        .and_then(|mut f| f.read_to_string(&mut s))
        .unwrap_or_else(|e| panic!("cannot read the daemon log {path}: {e}"));
    s
}

/// The console lines the daemon logged for the task with this pid (the
/// text after "console: "), waiting until `want` returns true for them
/// (at most 20 s: the log is written asynchronously).
pub fn console_lines_of(pid: u32, want: impl Fn(&[String]) -> bool) -> Vec<String> {
    let tag = format!("(pid {pid}) console: ");
    let t0 = Instant::now();
    loop {
        let lines: Vec<String> = daemon_log()
            .lines()
            .filter_map(|l| l.find(&tag).map(|i| l[i + tag.len()..].to_string()))
            .collect();
        if want(&lines) || t0.elapsed() > Duration::from_secs(20) {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Everything the tests and the tasks they spawn wrote to stderr and stdout
/// so far ($DIOS_TEST_OUTPUT_LOG: run-tests.sh tees cargo's output there): a
/// spawned task without a terminal writes its console output, and its
/// panics, to the stderr it inherited.  Its lines, waiting until `want`
/// returns true for them (at most 20 s).
pub fn output_lines(want: impl Fn(&[String]) -> bool) -> Vec<String> {
    let path = std::env::var("DIOS_TEST_OUTPUT_LOG")
        .expect("DIOS_TEST_OUTPUT_LOG is not set: run libdlibc-shim/rust/run-tests.sh");
    let t0 = Instant::now();
    loop {
        let mut b = Vec::new();
        std::fs::File::open(&path)
            .and_then(|mut f| f.read_to_end(&mut b))
            .unwrap_or_else(|e| panic!("cannot read the test output {path}: {e}"));
        let lines: Vec<String> = String::from_utf8_lossy(&b).lines().map(str::to_string).collect();
        if want(&lines) || t0.elapsed() > Duration::from_secs(20) {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits (at most 30 s) until `f` returns Some, polling; the last None fails.
pub fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let t0 = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "never happened within 30 s: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A fresh random name (never bound before, with overwhelming probability).
pub fn random_name() -> dios::Name {
    let mut b = [0u8; 32];
    std::fs::File::open("/dev/urandom").unwrap().read_exact(&mut b).unwrap();
    dios::Name::from_bytes(b)
}
