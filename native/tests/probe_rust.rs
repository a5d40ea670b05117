// probe_rust - a Rust std program for t_launch, run branded --pure under
// dios-launch.  Built by tests/run-tests.sh with `rustc --edition 2021 -O`
// (no cargo, no crates).  One "PASS name" / "FAIL name: why" line per check,
// then "ALL-PASSED 0" or "FAILURES n"; exit 0 when all passed.
//
//   basic   a named thread, a channel, println!, a HashMap (random keys),
//           available_parallelism, a read-only file read: the std runtime's
//           own calls, run under --seccomp-kill to show none is missing
//   deny    basic, then what the filter refuses, seen as io::Error ENOSYS:
//           File::create, TcpStream::connect, UnixStream::connect, Command

use std::collections::HashMap;
use std::io::Write;
use std::sync::mpsc;
use std::thread;

const ENOSYS: i32 = 38;

struct Probe {
    failures: u32,
}

impl Probe {
    fn check(&mut self, name: &str, ok: bool, why: String) {
        if ok {
            println!("PASS {}", name);
        } else {
            println!("FAIL {}: {}", name, why);
            self.failures += 1;
        }
    }

    fn enosys<T>(&mut self, name: &str, r: std::io::Result<T>) {
        match r {
            Ok(_) => self.check(name, false, "succeeded".to_string()),
            Err(e) => self.check(name, e.raw_os_error() == Some(ENOSYS), format!("{}", e)),
        }
    }
}

fn basic(p: &mut Probe) {
    let (tx, rx) = mpsc::channel();
    let h = thread::Builder::new()
        .name("probe-worker".into())
        .spawn(move || {
            tx.send(thread::current().name().map(String::from)).unwrap();
            21 * 2
        });
    match h {
        Ok(h) => {
            let name = rx.recv().ok().flatten();
            let v = h.join().unwrap_or(0);
            p.check(
                "thread::spawn, a channel and join",
                v == 42 && name.as_deref() == Some("probe-worker"),
                format!("got {} from thread {:?}", v, name),
            );
        }
        Err(e) => p.check("thread::spawn, a channel and join", false, format!("{}", e)),
    }
    let m: HashMap<u32, u32> = (0..1000).map(|i| (i, i * i)).collect();
    p.check("HashMap with random keys", m.get(&30) == Some(&900), "lookup".into());
    let cpus = thread::available_parallelism();
    p.check("available_parallelism", cpus.is_ok(), format!("{:?}", cpus));
    let passwd = std::fs::read_to_string("/etc/passwd");
    p.check("fs::read_to_string(/etc/passwd)", passwd.map(|s| !s.is_empty()).unwrap_or(false), "read".into());
    let mut out = std::io::stdout().lock();
    let w = writeln!(out, "println works").and_then(|_| out.flush());
    drop(out);
    p.check("stdout write and flush", w.is_ok(), format!("{:?}", w));
}

fn deny(p: &mut Probe) {
    p.enosys("File::create", std::fs::File::create("/tmp/dios-probe-rust-no-such-file"));
    p.enosys("TcpStream::connect", std::net::TcpStream::connect("127.0.0.1:9"));
    p.enosys("UnixStream::connect", std::os::unix::net::UnixStream::connect("/tmp/dios-probe-rust-no-socket"));
    let c = std::process::Command::new("/bin/true").status();
    p.check("Command::status fails", c.is_err(), format!("{:?}", c));
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let mut p = Probe { failures: 0 };
    match mode.as_str() {
        "basic" => basic(&mut p),
        "deny" => {
            basic(&mut p);
            deny(&mut p);
        }
        _ => {
            eprintln!("probe_rust: mode basic or deny");
            std::process::exit(2);
        }
    }
    if p.failures == 0 {
        println!("ALL-PASSED 0");
    } else {
        println!("FAILURES {}", p.failures);
        std::process::exit(1);
    }
}
