//! The examples, run as a user runs them (cargo builds them for `cargo
//! test`): each prints the answer its Linux version prints.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{console_lines_of, daemon};

/// target/<profile>/examples/<name>, next to this test's deps/ directory.
fn example(name: &str) -> PathBuf {
    let me = std::env::current_exe().unwrap();
    let dir = me.parent().and_then(|d| d.parent()).unwrap().join("examples");
    let p = dir.join(name);
    assert!(p.exists(), "{} not built (cargo test builds the examples)", p.display());
    p
}

/// Runs it to the end (at most 300 s), stdin empty.
fn run(name: &str, args: &[&str]) -> (u32, Output) {
    let mut child = Command::new(example(name))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > Duration::from_secs(300) {
            let _ = child.kill();
            panic!("{name} {args:?} ran over 300 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (pid, out)
}

fn stdout_of(name: &str, args: &[&str]) -> String {
    let (_, out) = run(name, args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name} {args:?}: {}\nstdout: {text}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn hello_prints_on_stdout_and_the_console() {
    daemon();
    let (pid, out) = run("hello", &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello, world\n");
    let want = format!("hello, world (through the DIOS console, from pid {pid})");
    let lines = console_lines_of(pid, |l| l.contains(&want));
    assert!(lines.contains(&want), "console lines of pid {pid}: {lines:?}");
}

#[test]
fn fib_with_tasks() {
    daemon();
    // fib(10) of listing 4.4, as bench_tasks' Linux version computes it
    assert_eq!(stdout_of("fib", &[]), "fib(10) = 55\n");
    assert_eq!(stdout_of("fib", &["7"]), "fib(7) = 13\n");
    assert_eq!(stdout_of("fib", &["1"]), "fib(1) = 1\n");
}

#[test]
fn sum_of_primes() {
    daemon();
    // appendix A.2: the primes below 1,000
    assert_eq!(stdout_of("primes", &[]), "76127\n");
}

#[test]
fn scenarios_all_ok() {
    daemon();
    let text = stdout_of("scenarios", &[]);
    let ids: Vec<&str> = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.splitn(5, ' ').collect();
            assert!(f.len() >= 4 && f[0] == "scenario" && f[1] == "rust" && f[3] == "ok", "{l}");
            f[2]
        })
        .collect();
    assert_eq!(ids, ["share", "fifo100", "spawn", "errors"], "{text}");
    assert!(text.contains(" errors ok EBADF ENOENT EEXIST EINVAL EACCES EAGAIN EPIPE EIDRM ENOEXEC\n"), "{text}");
}
