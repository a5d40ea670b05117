//! Tasks and channels against a real daemon: spawn_task starts a copy of this
//! test program at a listed entry, values make the round trip, exit statuses
//! come back, a panic's message reaches the console, and the whitelist
//! refuses what is not on it.

mod common;

use std::io::ErrorKind;

use common::{daemon, daemon_log, output_lines};
use dios::sys::*;
use dios::{Channel, Exe, Fifo, Memory, MemoryKind, TaskBuilder, ENTRY_ARG};

// ---- the entries -----------------------------------------------------------

/// Echoes tagged values until tag 0.
fn echo(chan: Channel) {
    loop {
        match chan.recv::<u8>().unwrap() {
            0 => return,
            1 => chan.send(chan.recv::<u64>().unwrap()).unwrap(),
            2 => chan.send(chan.recv::<String>().unwrap()).unwrap(),
            3 => chan.send(chan.recv::<Vec<u8>>().unwrap()).unwrap(),
            4 => chan.send(chan.recv::<(i32, bool, char)>().unwrap()).unwrap(),
            5 => chan.send(chan.recv::<[u16; 4]>().unwrap()).unwrap(),
            6 => chan.send(chan.recv::<Option<Vec<String>>>().unwrap()).unwrap(),
            7 => {
                let mut b = [0u8; 3];
                chan.recv_exact(&mut b).unwrap();
                chan.send_bytes(&b).unwrap();
            }
            t => panic!("echo: unknown tag {t}"),
        }
    }
}

/// Panics with the message it is sent.
fn panicker(chan: Channel) {
    let msg: String = chan.recv().unwrap();
    panic!("{msg}");
}

/// Exits with the status it is sent.
fn exit_with(chan: Channel) {
    let code: i32 = chan.recv().unwrap();
    std::process::exit(code);
}

/// Returns at once, sending nothing.
fn quiet(_chan: Channel) {}

/// Sums the bytes of the memory object delegated after the channel.
fn sum_memory(chan: Channel) {
    let mut refs = dios::delegated(4).unwrap();
    assert_eq!(refs.len(), 1, "one reference after the channel's");
    let m = Memory::from_ref(refs.remove(0)).unwrap();
    let t = m.acquire_read(0).unwrap();
    chan.send(t.iter().map(|&b| b as u64).sum::<u64>()).unwrap();
}

/// Answers once the parent says so.
fn wait_for_word(chan: Channel) {
    let _: u8 = chan.recv().unwrap();
}

/// Not an entry: spawning it is refused.
fn not_listed(_chan: Channel) {}

dios::entries!(echo, panicker, exit_with, quiet, sum_memory, wait_for_word);

// ---- the tests -------------------------------------------------------------

#[test]
fn channel_round_trips_values() {
    daemon();
    let c = dios::spawn_task(echo).unwrap();
    for v in [0u64, 1, u64::MAX, 0x0123_4567_89ab_cdef] {
        c.send(1u8).unwrap();
        c.send(v).unwrap();
        assert_eq!(c.recv::<u64>().unwrap(), v);
    }
    for s in ["", "hello", "ĥéllo wörld", &"x".repeat(100_000)] {
        c.send(2u8).unwrap();
        c.send(s).unwrap();
        assert_eq!(c.recv::<String>().unwrap(), s);
    }
    // larger than the FIFOs (256 KiB): streamed through in pieces both ways
    let big: Vec<u8> = (0..(1u32 << 20) + 17).map(|i| (i * 7 + (i >> 11)) as u8).collect();
    c.send(3u8).unwrap();
    c.send(&big).unwrap();
    assert!(c.recv::<Vec<u8>>().unwrap() == big);
    c.send(4u8).unwrap();
    c.send((-5i32, true, 'ß')).unwrap();
    assert_eq!(c.recv::<(i32, bool, char)>().unwrap(), (-5, true, 'ß'));
    c.send(5u8).unwrap();
    c.send([1u16, 2, 65535, 0]).unwrap();
    assert_eq!(c.recv::<[u16; 4]>().unwrap(), [1, 2, 65535, 0]);
    let v = Some(vec!["a".to_string(), String::new(), "c".to_string()]);
    c.send(6u8).unwrap();
    c.send(&v).unwrap();
    assert_eq!(c.recv::<Option<Vec<String>>>().unwrap(), v);
    c.send(7u8).unwrap();
    c.send_bytes(b"raw").unwrap();
    let mut b = [0u8; 3];
    c.recv_exact(&mut b).unwrap();
    assert_eq!(&b, b"raw");
    c.send(0u8).unwrap();
    let st = c.wait().unwrap();
    assert!(st.success(), "an entry that returns exits 0: {st}");
    // the task is gone and its ends with it: the end of the stream
    assert_eq!(c.recv::<u8>().unwrap_err().raw_os_error(), Some(DIOS_EPIPE));
    assert_eq!(c.send(1u8).unwrap_err().raw_os_error(), Some(DIOS_EPIPE));
}

#[test]
fn exit_status_comes_back() {
    daemon();
    let c = dios::spawn_task(exit_with).unwrap();
    let pid = c.task().unwrap().pid().unwrap();
    assert!(pid > 0);
    c.send(7i32).unwrap();
    let st = c.wait().unwrap();
    assert_eq!(st.code(), Some(7), "{st}");
    assert_eq!(c.task().unwrap().try_wait().unwrap().map(|s| s.code()), Some(Some(7)));
    // a child's own channel has no task to wait for
    let q = dios::spawn_task(quiet).unwrap();
    assert!(q.wait().unwrap().success());
    assert_eq!(q.recv::<u32>().unwrap_err().raw_os_error(), Some(DIOS_EPIPE), "nothing sent, then gone");
}

#[test]
fn a_panicking_task_fails_and_says_why_on_the_stderr_it_inherited() {
    daemon();
    let word = format!("boom-{}", common::random_name());
    let c = dios::spawn_task(panicker).unwrap();
    let pid = c.task().unwrap().pid().unwrap();
    c.send(&word).unwrap();
    let st = c.wait().unwrap();
    assert!(!st.success(), "a panicking task must not exit 0: {st}");
    assert_eq!(st.code(), Some(101), "{st}");
    // no terminal: the task's console is the stderr it inherited from this test (as a
    // Unix child's output), run-tests.sh's pipe; the daemon's log does not have it
    let lines = output_lines(|l| l.contains(&word));
    let at = lines.iter().position(|x| *x == word).unwrap_or_else(|| panic!("no panic message of pid {pid}"));
    let head = &lines[at - 1];
    assert!(head.contains("tests/tasks.rs:"), "{head}");
    assert!(head.starts_with(&format!("dios task panicker (entry 1, pid {pid}) panicked at ")), "{head}");
    assert!(!daemon_log().contains(&word), "a spawned task's panic is not the daemon's to log");
}

#[test]
fn extra_references_are_delegated_after_the_channel() {
    daemon();
    let m = Memory::new(MemoryKind::Shared, 4096).unwrap();
    let mut w = m.acquire_write(0).unwrap();
    for (i, b) in w.iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    w.commit(4096).unwrap();
    drop(w);
    let want: u64 = (0..4096u64).map(|i| i % 251).sum();
    let c = TaskBuilder::new(sum_memory).capacity(4096).delegate(&m).spawn().unwrap();
    assert_eq!(c.sender().capacity(), Some(4096));
    assert_eq!(c.recv::<u64>().unwrap(), want);
    assert!(c.wait().unwrap().success());
}

#[test]
fn wait_timeout_gives_up_while_the_task_runs() {
    daemon();
    let slow = dios::spawn_task(wait_for_word).unwrap();
    let ts = slow.task().unwrap();
    let d = std::time::Duration::from_millis(150);
    let t0 = std::time::Instant::now();
    assert_eq!(ts.wait_timeout(d).unwrap(), None, "still running");
    let took = t0.elapsed();
    assert!(took >= d && took < d + std::time::Duration::from_secs(5), "took {took:?}");
    assert_eq!(dios::select_timeout(&[ts], d).unwrap(), None);
    // its exit goes to the next wait
    slow.send(1u8).unwrap();
    let st = ts.wait_timeout(std::time::Duration::MAX).unwrap().expect("ended");
    assert!(st.success());
    assert!(slow.wait().unwrap().success());
}

#[test]
fn select_sees_a_task_exit() {
    daemon();
    let slow = dios::spawn_task(wait_for_word).unwrap();
    let fast = dios::spawn_task(quiet).unwrap();
    let (ts, tf) = (slow.task().unwrap(), fast.task().unwrap());
    assert_eq!(dios::select(&[ts, tf]).unwrap(), 1);
    assert_eq!(ts.try_wait().unwrap(), None, "still running");
    slow.send(1u8).unwrap();
    assert_eq!(dios::select(&[ts]).unwrap(), 0);
    assert!(slow.wait().unwrap().success());
    // a channel's receiving FIFO selects too
    let e = dios::spawn_task(echo).unwrap();
    e.send(1u8).unwrap();
    e.send(9u64).unwrap();
    assert_eq!(dios::select(&[e.receiver()]).unwrap(), 0);
    assert_eq!(e.recv::<u64>().unwrap(), 9);
    e.send(0u8).unwrap();
    assert!(e.wait().unwrap().success());
}

#[test]
fn functions_not_listed_are_refused() {
    daemon();
    let e = dios::spawn_task(not_listed).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("dios::entries!"), "{e}");
}

/// Starts this program by hand as `--dios-entry ARGS...`, with a channel's
/// two FIFOs delegated as spawn_task does; returns its pid and exit status.
fn start_by_hand(args: &[&str]) -> (u32, std::process::ExitStatus) {
    let exe = Exe::current().unwrap();
    let down = Fifo::with_capacity(4096).unwrap();
    let up = Fifo::with_capacity(4096).unwrap();
    let mut argv = vec!["tasks-by-hand", ENTRY_ARG];
    argv.extend_from_slice(args);
    let t = exe.run(&argv, &[&down, &up]).unwrap();
    let pid = t.pid().unwrap();
    (pid, t.wait().unwrap())
}

#[test]
fn the_whitelist_refuses_a_bad_entry() {
    daemon();
    for (args, says) in [
        (&["99", "echo"][..], "no task entry 99: this program lists 6"),
        (&["6"][..], "no task entry 6"),
        (&["-1"][..], "\"-1\" is not an entry index"),
        (&["0x0"][..], "\"0x0\" is not an entry index"),
        (&["0", "panicker"][..], "task entry 0 is echo, not panicker"),
    ] {
        let (pid, st) = start_by_hand(args);
        assert!(!st.success(), "{args:?}: a refused entry must not exit 0: {st}");
        // the message follows its panic's header line (the refused task's stderr is this test's)
        let said = |l: &[String]| l.windows(2).any(|w| w[0].contains("panicked at") && w[1].contains(says));
        let lines = output_lines(said);
        assert!(said(&lines), "{args:?}: no \"{says}\" from pid {pid} on the stderr it inherited");
    }
    // and a good index by hand works (quiet returns at once)
    let (_, st) = start_by_hand(&["3", "quiet"]);
    assert!(st.success(), "{st}");
}

#[test]
fn many_tasks_at_once() {
    daemon();
    let kids: Vec<Channel> = (0..16).map(|_| dios::spawn_task(echo).unwrap()).collect();
    for (i, c) in kids.iter().enumerate() {
        c.send(1u8).unwrap();
        c.send(i as u64 * 1000).unwrap();
    }
    for (i, c) in kids.iter().enumerate() {
        assert_eq!(c.recv::<u64>().unwrap(), i as u64 * 1000);
        c.send(0u8).unwrap();
    }
    for c in &kids {
        assert!(c.wait().unwrap().success());
    }
}

#[test]
fn without_a_daemon_the_panic_goes_to_stderr() {
    // This program started by hand at an entry, with no daemon to reach: the
    // task cannot take its channel, panics, and the console being out of
    // reach too, the message goes to stderr (Rust's default hook).
    if std::path::Path::new("/run/dios/diosd.sock").exists() {
        eprintln!("skipped: a system diosd listens at /run/dios/diosd.sock (the shim's fallback)");
        return;
    }
    let sock = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-daemon-here.sock");
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([ENTRY_ARG, "1", "panicker"])
        .env("DIOS_SOCKET", &sock)
        .env("RUST_BACKTRACE", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(101), "stderr: {err}");
    assert!(err.contains("panicked at"), "{err}");
    assert!(err.contains("dios: task entry panicker: "), "{err}");
    assert!(err.contains(&format!("(os error {DIOS_ENOTCONN})")), "{err}");
    assert!(err.contains(&sock.display().to_string()), "the detail names the socket: {err}");
    assert!(out.stdout.is_empty(), "main never ran: {}", String::from_utf8_lossy(&out.stdout));
}
