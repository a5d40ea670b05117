//! bench_tasks_rs - the seed's task workloads in Rust, as DIOS tasks (the
//! dios crate: spawn_task, channels, select) and as Linux processes (std:
//! Command, pipes, poll), run by perf/run beside their C versions
//! (perf/src/bench_tasks.c) so the seed's comparison (Rust within ~10% of C,
//! section 4.2.4) is made in one run.
//!
//! The workloads are the C benchmark's, step for step, so that the figures
//! differ only by the language and its runtime:
//!
//!   seed_fib10_rust_dios / seed_fib10_rust_linux
//!        fib(10) with tasks: the root is spawned and sent n; a task given
//!        n >= 2 spawns a task and sends it n-2, spawns another and sends it
//!        n-1, answers (sum, tasks under it) and waits for both.  177 tasks.
//!        DIOS: a spawn_task channel per child (FIFOs of 4 KiB); Linux: the
//!        child's stdin and stdout pipes, as in the seed's appendix A.1
//!        (std::process::Command, which uses posix_spawn where it can).
//!   seed_primes1k_rust_{dios,linux} / seed_primes1m_rust_{dios,linux}
//!        Sum of the primes below 1,000 / 1,000,000: 12 mappers get a range
//!        each over their channel and send each prime (8 bytes) straight to
//!        reducer (p / 2) mod 8 over its own FIFO of 64 KiB (delegated after
//!        the channel) or pipe (fds 3.., fork+exec as in C); a reducer waits
//!        on its 12 inputs with dios::select (poll), sums, and sends its sum
//!        back.  The only difference from C: a mapper's and a reducer's
//!        channel is spawn_task's pair of FIFOs, where C makes one FIFO each.
//!
//! Runs alternate D L, L D ... after unmeasured runs of each (10 for fib and
//! primes below 1k, 1 for primes below 1M, as bench_tasks.c; not with
//! --quick), and every answer is checked (a wrong one fails the run).  Prints
//! "result" lines (µs per run, as bench_common.h), the distributions to
//! $DIOS_PERF_SAMPLES, and one "info check" line per series.
//!
//!   bench_tasks_rs [--quick] [--only fib|primes]
//! The Linux processes it starts run it as: bench_tasks_rs --child ROLE.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::raw::{c_int, c_short, c_uint, c_ulong};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Instant;

use dios::{Channel, Fifo, Ref, TaskBuilder};

const FIB_N: u64 = 10;
const FIB_VALUE: u64 = 55;
const FIB_TASKS: u64 = 177;
const NMAP: usize = 12;
const NRED: usize = 8;
const SMALL_CAP: u64 = 4096;
const MR_CAP: u64 = 65536;
const CHILD_ALARM: c_uint = 300;

extern "C" {
    fn alarm(seconds: c_uint) -> c_uint;
    fn pipe2(fds: *mut c_int, flags: c_int) -> c_int;
    fn dup2(old: c_int, new: c_int) -> c_int;
    fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
    fn poll(fds: *mut PollFd, n: c_ulong, timeout: c_int) -> c_int;
}
const O_CLOEXEC: c_int = 0o2000000;
const F_DUPFD_CLOEXEC: c_int = 1030;
const POLLIN: c_short = 1;

#[repr(C)]
struct PollFd {
    fd: c_int,
    events: c_short,
    revents: c_short,
}

fn die(what: String) -> ! {
    eprintln!("benchmark failed: {what}");
    std::process::exit(1);
}

fn check_status(st: ExitStatus, who: &str) {
    if !st.success() {
        die(format!("{who} ended badly ({st})"));
    }
}

fn is_prime(v: u32) -> bool {
    if v < 2 {
        return false;
    }
    if v < 4 {
        return true;
    }
    if v % 2 == 0 {
        return false;
    }
    let mut d = 3;
    while d <= v / d {
        if v % d == 0 {
            return false;
        }
        d += 2;
    }
    true
}

fn reducer_of(p: u64) -> usize {
    ((p / 2) % NRED as u64) as usize
}

fn range_of(limit: u64, m: usize) -> (u64, u64) {
    (limit * m as u64 / NMAP as u64, limit * (m as u64 + 1) / NMAP as u64)
}

// ---- DIOS: fib -------------------------------------------------------------

fn fib_task(chan: Channel) {
    // SAFETY: alarm has no memory effects.
    unsafe { alarm(CHILD_ALARM) };
    let n: u64 = chan.recv().unwrap();
    if n >= 2 {
        let k1 = fib_spawn(n - 2);
        let k2 = fib_spawn(n - 1);
        let (v1, t1): (u64, u64) = k1.recv().unwrap();
        let (v2, t2): (u64, u64) = k2.recv().unwrap();
        chan.send((v1 + v2, 1 + t1 + t2)).unwrap();
        check_status(k1.wait().unwrap(), "a fib task");
        check_status(k2.wait().unwrap(), "a fib task");
        return;
    }
    chan.send((n, 1u64)).unwrap();
}

fn fib_spawn(n: u64) -> Channel {
    let c = TaskBuilder::new(fib_task).capacity(SMALL_CAP).spawn().unwrap_or_else(|e| die(format!("spawn_task: {e}")));
    c.send(n).unwrap_or_else(|e| die(format!("send: {e}")));
    c
}

fn fib_dios(n: u64) -> (u64, u64) {
    let k = fib_spawn(n);
    let a: (u64, u64) = k.recv().unwrap_or_else(|e| die(format!("the root fib task's answer: {e}")));
    check_status(k.wait().unwrap_or_else(|e| die(format!("wait: {e}"))), "the root fib task");
    a
}

// ---- DIOS: sum of primes ---------------------------------------------------

fn take_fifos(n: usize) -> Vec<Fifo> {
    let refs = dios::delegated(n).unwrap();
    assert_eq!(refs.len(), n, "delegated references");
    refs.into_iter().map(|r| Fifo::from_ref(r).unwrap()).collect()
}

/// mapper: its range over the channel, out to reducer 0 .. 7 (delegated)
fn mapper(chan: Channel) {
    // SAFETY: alarm has no memory effects.
    unsafe { alarm(CHILD_ALARM) };
    let outs = take_fifos(NRED);
    let (lo, hi): (u64, u64) = chan.recv().unwrap();
    for v in lo..hi {
        if is_prime(v as u32) {
            (&outs[reducer_of(v)]).write_all(&v.to_le_bytes()).unwrap();
        }
    }
    // the writer ends go with the task: the reducers see the end of stream
}

/// All the bytes ready on input live[i] added to *sum (nonblocking: if
/// there are any); at its end of stream the input leaves live.
fn red_take(live: &mut Vec<Fifo>, i: usize, nonblocking: bool, sum: &mut u64) {
    let e = {
        let f = &live[i];
        match if nonblocking { f.try_acquire_read(0) } else { f.acquire_read(0) } {
            Ok(t) => {
                assert!(t.len() % 8 == 0, "reducer: a {}-byte read (every message is 8 bytes)", t.len());
                for w in t.chunks_exact(8) {
                    *sum += u64::from_le_bytes(w.try_into().unwrap());
                }
                t.release().unwrap();
                return;
            }
            Err(e) => e,
        }
    };
    if nonblocking && e.kind() == std::io::ErrorKind::WouldBlock {
        return;
    }
    if e.raw_os_error() != Some(dios::sys::DIOS_EPIPE) {
        panic!("reducer: acquire_read: {e}");
    }
    live.swap_remove(i); // dropped: released
}

/// reducer: in from mapper 0 .. 11 (delegated), its sum over the channel
fn reducer(chan: Channel) {
    // SAFETY: alarm has no memory effects.
    unsafe { alarm(CHILD_ALARM) };
    let mut live = take_fifos(NMAP);
    let mut sum = 0u64;
    // bind the reader end of every input first (see bench_tasks.c)
    for i in (0..NMAP).rev() {
        red_take(&mut live, i, true, &mut sum);
    }
    while !live.is_empty() {
        let refs: Vec<&Ref> = live.iter().map(|f| &**f).collect();
        let i = dios::select(&refs).unwrap();
        red_take(&mut live, i, false, &mut sum);
    }
    chan.send(sum).unwrap();
}

dios::entries!(fib_task, mapper, reducer);

fn primes_dios(limit: u64) -> u64 {
    let fail = |what: &str, e: std::io::Error| -> ! { die(format!("{what}: {e}")) };
    let mr: Vec<Vec<Fifo>> = (0..NMAP)
        .map(|_| (0..NRED).map(|_| Fifo::with_capacity(MR_CAP).unwrap_or_else(|e| fail("FIFO", e))).collect())
        .collect();
    let maps: Vec<Channel> = (0..NMAP)
        .map(|m| {
            let b = mr[m].iter().fold(TaskBuilder::new(mapper).capacity(SMALL_CAP), |b, f| b.delegate(f));
            b.spawn().unwrap_or_else(|e| fail("spawn_task(mapper)", e))
        })
        .collect();
    let reds: Vec<Channel> = (0..NRED)
        .map(|r| {
            let b = (0..NMAP).fold(TaskBuilder::new(reducer).capacity(SMALL_CAP), |b, m| b.delegate(&mr[m][r]));
            b.spawn().unwrap_or_else(|e| fail("spawn_task(reducer)", e))
        })
        .collect();
    // only the mappers and reducers may hold these: an end is gone once its task is
    drop(mr);
    for (m, c) in maps.iter().enumerate() {
        c.send(range_of(limit, m)).unwrap_or_else(|e| fail("send", e));
    }
    let total: u64 = reds.iter().map(|c| c.recv::<u64>().unwrap_or_else(|e| fail("a reducer's sum", e))).sum();
    for c in &maps {
        check_status(c.wait().unwrap_or_else(|e| fail("wait", e)), "a mapper task");
    }
    for c in &reds {
        check_status(c.wait().unwrap_or_else(|e| fail("wait", e)), "a reducer task");
    }
    total
}

// ---- Linux: processes and pipes ---------------------------------------------

fn self_path() -> std::path::PathBuf {
    std::env::current_exe().unwrap_or_else(|e| die(format!("current_exe: {e}")))
}

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut p = [0 as c_int; 2];
    // SAFETY: p has room for the two descriptors.
    if unsafe { pipe2(p.as_mut_ptr(), O_CLOEXEC) } != 0 {
        die(format!("pipe2: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: two fresh descriptors we now own.
    unsafe { (OwnedFd::from_raw_fd(p[0]), OwnedFd::from_raw_fd(p[1])) }
}

/// Starts this program as --child ROLE with each (src, dst) of `fds` as the
/// child's descriptor dst (every other one is close-on-exec), stdin and
/// stdout as given.  Like bench_tasks.c, through temporaries from 16 up, so
/// that no dup2 overwrites a source still to be moved.
fn spawn_child(role: &str, stdin: Stdio, stdout: Stdio, fds: Vec<(RawFd, RawFd)>) -> Child {
    let mut cmd = Command::new(self_path());
    cmd.args(["--child", role]).stdin(stdin).stdout(stdout);
    if !fds.is_empty() {
        // SAFETY: the closure only calls async-signal-safe fcntl/dup2 and
        // allocates nothing (fds was built before the fork).
        unsafe {
            cmd.pre_exec(move || {
                let mut tmp = [0 as c_int; 16];
                for (i, &(src, _)) in fds.iter().enumerate() {
                    tmp[i] = fcntl(src, F_DUPFD_CLOEXEC, 16 as c_int);
                    if tmp[i] < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                for (i, &(_, dst)) in fds.iter().enumerate() {
                    if dup2(tmp[i], dst) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
    }
    cmd.spawn().unwrap_or_else(|e| die(format!("spawn {role}: {e}")))
}

fn reap(mut c: Child, who: &str) {
    check_status(c.wait().unwrap_or_else(|e| die(format!("waitpid: {e}"))), who);
}

/// A.1: the child's stdin carries n, its stdout the answer.
fn fib_linux_spawn(n: u64) -> Child {
    let mut c = Command::new(self_path())
        .args(["--child", "fib-linux"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| die(format!("spawn: {e}")));
    let mut stdin = c.stdin.take().unwrap();
    stdin.write_all(&n.to_le_bytes()).unwrap_or_else(|e| die(format!("pipe write: {e}")));
    c
}

fn read_answer(c: &mut Child) -> (u64, u64) {
    let mut b = [0u8; 16];
    c.stdout.as_mut().unwrap().read_exact(&mut b).unwrap_or_else(|e| {
        die(format!("pipe ended early (the process at the other end failed): {e}"))
    });
    (u64::from_le_bytes(b[..8].try_into().unwrap()), u64::from_le_bytes(b[8..].try_into().unwrap()))
}

fn child_fib_linux() {
    let mut b = [0u8; 8];
    std::io::stdin().lock().read_exact(&mut b).unwrap_or_else(|e| die(format!("pipe read: {e}")));
    let n = u64::from_le_bytes(b);
    let mut a = (n, 1u64);
    let mut kids = Vec::new();
    if n >= 2 {
        let mut k1 = fib_linux_spawn(n - 2);
        let mut k2 = fib_linux_spawn(n - 1);
        let (v1, t1) = read_answer(&mut k1);
        let (v2, t2) = read_answer(&mut k2);
        a = (v1 + v2, 1 + t1 + t2);
        kids = vec![k1, k2];
    }
    let mut out = std::io::stdout().lock();
    out.write_all(&a.0.to_le_bytes()).and_then(|_| out.write_all(&a.1.to_le_bytes())).and_then(|_| out.flush())
        .unwrap_or_else(|e| die(format!("pipe write: {e}")));
    for k in kids {
        reap(k, "a fib process");
    }
}

fn fib_linux(n: u64) -> (u64, u64) {
    let mut k = fib_linux_spawn(n);
    let a = read_answer(&mut k);
    reap(k, "the root fib process");
    a
}

/// mapper: stdin = its range, fds 3 .. 3+NRED-1 = to the reducers
fn child_map_linux() {
    let mut b = [0u8; 16];
    std::io::stdin().lock().read_exact(&mut b).unwrap_or_else(|e| die(format!("pipe read: {e}")));
    let (lo, hi) = (u64::from_le_bytes(b[..8].try_into().unwrap()), u64::from_le_bytes(b[8..].try_into().unwrap()));
    // SAFETY: the coordinator gave this process fds 3 .. 3+NRED-1.
    let mut outs: Vec<File> = (0..NRED).map(|r| unsafe { File::from_raw_fd(3 + r as RawFd) }).collect();
    for v in lo..hi {
        if is_prime(v as u32) {
            outs[reducer_of(v)].write_all(&v.to_le_bytes()).unwrap_or_else(|e| die(format!("pipe write: {e}")));
        }
    }
}

/// reducer: fds 3 .. 3+NMAP-1 = from the mappers, stdout = its sum
fn child_red_linux() {
    let mut pf: Vec<PollFd> = (0..NMAP).map(|i| PollFd { fd: 3 + i as c_int, events: POLLIN, revents: 0 }).collect();
    // SAFETY: the coordinator gave this process fds 3 .. 3+NMAP-1.
    let mut ins: Vec<File> = (0..NMAP).map(|i| unsafe { File::from_raw_fd(3 + i as RawFd) }).collect();
    let mut carry = [[0u8; 8]; NMAP];
    let mut ncarry = [0usize; NMAP];
    let mut buf = vec![0u8; 65536];
    let (mut live, mut sum) = (NMAP, 0u64);
    while live > 0 {
        // SAFETY: pf holds NMAP entries.
        if unsafe { poll(pf.as_mut_ptr(), NMAP as c_ulong, -1) } < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            die(format!("poll: {e}"));
        }
        for i in 0..NMAP {
            if pf[i].fd < 0 || pf[i].revents == 0 {
                continue;
            }
            buf[..ncarry[i]].copy_from_slice(&carry[i][..ncarry[i]]);
            let room = buf.len() - 8;
            let n = match ins[i].read(&mut buf[ncarry[i]..room]) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => die(format!("pipe read: {e}")),
            };
            if n == 0 {
                if ncarry[i] != 0 {
                    die("reducer: a mapper's stream ended inside a message".into());
                }
                pf[i].fd = -1; // poll ignores it
                live -= 1;
                continue;
            }
            let have = ncarry[i] + n;
            let words = have / 8;
            for w in buf[..words * 8].chunks_exact(8) {
                sum += u64::from_le_bytes(w.try_into().unwrap());
            }
            ncarry[i] = have % 8;
            carry[i][..ncarry[i]].copy_from_slice(&buf[words * 8..have]);
        }
    }
    let mut out = std::io::stdout().lock();
    out.write_all(&sum.to_le_bytes()).and_then(|_| out.flush()).unwrap_or_else(|e| die(format!("pipe write: {e}")));
}

fn primes_linux(limit: u64) -> u64 {
    let mut cm: Vec<(Option<OwnedFd>, Option<OwnedFd>)> = Vec::new();
    let mut mr: Vec<Vec<(OwnedFd, OwnedFd)>> = Vec::new();
    for _ in 0..NMAP {
        let (r, w) = pipe();
        cm.push((Some(r), Some(w)));
        mr.push((0..NRED).map(|_| pipe()).collect());
    }
    let mut rc: Vec<(Option<OwnedFd>, Option<OwnedFd>)> = (0..NRED).map(|_| pipe()).map(|(r, w)| (Some(r), Some(w))).collect();
    let mut kids = Vec::new();
    for m in 0..NMAP {
        let fds = (0..NRED).map(|r| (mr[m][r].1.as_raw_fd(), 3 + r as RawFd)).collect();
        let stdin = Stdio::from(cm[m].0.take().unwrap());
        kids.push((spawn_child("map-linux", stdin, Stdio::inherit(), fds), "a mapper process"));
    }
    for r in 0..NRED {
        let fds = (0..NMAP).map(|m| (mr[m][r].0.as_raw_fd(), 3 + m as RawFd)).collect();
        let stdout = Stdio::from(rc[r].1.take().unwrap());
        kids.push((spawn_child("red-linux", Stdio::null(), stdout, fds), "a reducer process"));
    }
    drop(mr); // the parent's copies of the mapper -> reducer pipes
    for (m, c) in cm.iter_mut().enumerate() {
        let (lo, hi) = range_of(limit, m);
        let mut w = File::from(c.1.take().unwrap());
        w.write_all(&lo.to_le_bytes()).and_then(|_| w.write_all(&hi.to_le_bytes()))
            .unwrap_or_else(|e| die(format!("pipe write: {e}")));
    }
    let mut total = 0u64;
    for c in rc.iter_mut() {
        let mut b = [0u8; 8];
        File::from(c.0.take().unwrap()).read_exact(&mut b).unwrap_or_else(|e| {
            die(format!("a reducer's sum (the process failed): {e}"))
        });
        total += u64::from_le_bytes(b);
    }
    for (k, who) in kids {
        reap(k, who);
    }
    total
}

fn child_main(role: &str) {
    // SAFETY: alarm has no memory effects.
    unsafe { alarm(CHILD_ALARM) };
    match role {
        "fib-linux" => child_fib_linux(),
        "map-linux" => child_map_linux(),
        "red-linux" => child_red_linux(),
        _ => {
            eprintln!("bench_tasks_rs: no child role '{role}'");
            std::process::exit(2);
        }
    }
}

// ---- samples and reports (as bench_common.h) ----------------------------------

struct Series {
    name: String,
    what: String,
    ns: Vec<u64>,
}

/// nearest-rank percentile of sorted samples
fn pct(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let k = ((p * sorted.len() as f64 + 0.999999) as usize).clamp(1, sorted.len());
    sorted[k - 1]
}

/// <dir>/<name>.pct for perf/plot, on the grid of bench_common.h's series_dump.
fn dump(s: &Series) {
    let Some(dir) = std::env::var_os("DIOS_PERF_SAMPLES").filter(|d| !d.is_empty()) else { return };
    if s.ns.is_empty() {
        return;
    }
    let path = std::path::Path::new(&dir).join(format!("{}.pct", s.name));
    let us = |v: u64| v as f64 / 1000.0;
    let mut t = format!(
        "# {}: {}\n# n={} unit=us: percentile, nearest-rank sample (microseconds)\n",
        s.name,
        s.what,
        s.ns.len()
    );
    for i in 0..=198 {
        t += &format!("{:.4} {:.3}\n", i as f64 * 0.5, us(pct(&s.ns, i as f64 / 200.0)));
    }
    for k in 1.. {
        let miss = 10f64.powf(-(k as f64) / 10.0) / 100.0;
        if miss * (s.ns.len() as f64) < 1.0 {
            break;
        }
        t += &format!("{:.4} {:.3}\n", 100.0 * (1.0 - miss), us(pct(&s.ns, 1.0 - miss)));
    }
    t += &format!("{:.4} {:.3}\n", 100.0, us(*s.ns.last().unwrap()));
    std::fs::write(&path, t).unwrap_or_else(|e| die(format!("{}: {e}", path.display())));
}

fn report(all: &mut [Series]) {
    for s in all.iter_mut() {
        s.ns.sort_unstable();
        dump(s);
        let n = s.ns.len();
        println!(
            "result name={} unit=us p50={:.3} p99={:.3} max={:.3} n={n}",
            s.name,
            pct(&s.ns, 0.5) as f64 / 1000.0,
            pct(&s.ns, 0.99) as f64 / 1000.0,
            s.ns.last().copied().unwrap_or(0) as f64 / 1000.0
        );
    }
    println!("\n{:<28} {:>10} {:>10} {:>10} {:>9}  what", "figure", "p50 us", "p99 us", "max us", "n");
    for s in all.iter() {
        println!(
            "{:<28} {:>10.3} {:>10.3} {:>10.3} {:>9}  {}",
            s.name,
            pct(&s.ns, 0.5) as f64 / 1000.0,
            pct(&s.ns, 0.99) as f64 / 1000.0,
            s.ns.last().copied().unwrap_or(0) as f64 / 1000.0,
            s.ns.len(),
            s.what
        );
    }
    std::io::stdout().flush().unwrap();
}

// ---- the benchmark -------------------------------------------------------------

struct Workload {
    tag: &'static str,
    what: &'static str,
    limit: u64, // primes below this; 0 for fib
    want: u64,
    runs: usize,
    warm: usize, // unmeasured runs per side first (full run)
}

const WL: [Workload; 3] = [
    Workload { tag: "fib10", what: "fib(10) with tasks, one task per call (177)", limit: 0, want: FIB_VALUE, runs: 15, warm: 10 },
    Workload {
        tag: "primes1k",
        what: "sum of primes below 1,000: 12 mappers, 8 reducers",
        limit: 1000,
        want: 76127,
        runs: 15,
        warm: 10,
    },
    Workload {
        tag: "primes1m",
        what: "sum of primes below 1,000,000: 12 mappers, 8 reducers",
        limit: 1_000_000,
        want: 37_550_402_023,
        runs: 9,
        warm: 1,
    },
];

fn once(w: &Workload, dios_side: bool, s: Option<&mut Series>) -> u64 {
    let side = if dios_side { "DIOS tasks" } else { "Linux processes" };
    let t0 = Instant::now();
    let got = if w.limit == 0 {
        let (v, tasks) = if dios_side { fib_dios(FIB_N) } else { fib_linux(FIB_N) };
        if v != FIB_VALUE || tasks != FIB_TASKS {
            die(format!("fib({FIB_N}) with {side}: got {v} from {tasks} tasks, expected {FIB_VALUE} from {FIB_TASKS}"));
        }
        v
    } else if dios_side {
        primes_dios(w.limit)
    } else {
        primes_linux(w.limit)
    };
    let ns = t0.elapsed().as_nanos() as u64;
    if got != w.want {
        die(format!("{} with {side}: got {got}, expected {}", w.tag, w.want));
    }
    if let Some(s) = s {
        s.ns.push(ns);
    }
    got
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 3 && args[1] == "--child" {
        child_main(&args[2]);
        return;
    }
    let (mut quick, mut only) = (false, None::<String>);
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--quick" => quick = true,
            "--only" if i + 1 < args.len() && (args[i + 1] == "fib" || args[i + 1] == "primes") => {
                only = Some(args[i + 1].clone());
                i += 1;
            }
            _ => {
                eprintln!("usage: {} [--quick] [--only fib|primes]", args[0]);
                std::process::exit(2);
            }
        }
        i += 1;
    }
    // SAFETY: alarm has no memory effects.  Never hang a build.
    unsafe { alarm(if quick { 240 } else { 1800 }) };
    if let Err(e) = dios::nop() {
        die(format!("dios_nop (is diosd running? DIOS_SOCKET): {e}"));
    }
    let mut all = Vec::new();
    for w in &WL {
        if only.as_deref().is_some_and(|o| o != if w.limit == 0 { "fib" } else { "primes" }) {
            continue;
        }
        let runs = if quick { 1 } else { w.runs };
        let mut d = Series {
            name: format!("seed_{}_rust_dios", w.tag),
            what: format!("{}; Rust, DIOS tasks (dios crate), FIFOs (wall time per run)", w.what),
            ns: Vec::new(),
        };
        let mut l = Series {
            name: format!("seed_{}_rust_linux", w.tag),
            what: format!("{}; Rust, Linux processes (std::process), pipes (wall time per run)", w.what),
            ns: Vec::new(),
        };
        for _ in 0..if quick { 0 } else { w.warm } {
            once(w, true, None);
            once(w, false, None);
        }
        let (mut gd, mut gl) = (0, 0);
        for r in 0..runs {
            if r % 2 == 0 {
                gd = once(w, true, Some(&mut d));
                gl = once(w, false, Some(&mut l));
            } else {
                gl = once(w, false, Some(&mut l));
                gd = once(w, true, Some(&mut d));
            }
            eprintln!(
                "{} (Rust) run {r}: DIOS {:.1} ms, Linux {:.1} ms",
                w.tag,
                *d.ns.last().unwrap() as f64 / 1e6,
                *l.ns.last().unwrap() as f64 / 1e6
            );
        }
        let tasks = if w.limit == 0 { FIB_TASKS } else { (NMAP + NRED) as u64 };
        println!("info check name={} got={gd} want={} runs={runs} tasks={tasks}", d.name, w.want);
        println!("info check name={} got={gl} want={} runs={runs} tasks={tasks}", l.name, w.want);
        all.push(d);
        all.push(l);
    }
    report(&mut all);
}
