//! scenarios - the cross-language scenario suite, Rust runner (the contract
//! is /work/notes/scenarios.md; the C and Java runners print the same ids).
//!
//! One line per scenario on stdout, `scenario rust <id> ok <detail>` or
//! `scenario rust <id> FAIL <reason>`; exit status 0 iff all are ok.  The
//! daemon is found by DIOS_SOCKET.
//!
//!   DIOS_SOCKET=/path/to/diosd.sock cargo run --offline --release --example scenarios

use std::fs::File;
use std::io::{self, Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::thread;
use std::time::Instant;

use dios::sys::*;
use dios::{Channel, Exe, Fifo, Memory, MemoryKind, Name, Naming, Ref};

const SHARE_BYTES: usize = 4096;
const STREAM_BYTES: u64 = 100 * 1024 * 1024;
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
const CHILD_STATUS: i32 = 7;

/// byte k of every pattern: (k*31 + 7) & 0xff
fn pattern(k: u64) -> u8 {
    (k.wrapping_mul(31).wrapping_add(7) & 0xff) as u8
}

fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

type Outcome = Result<String, String>;

fn fail<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

// ---- 1. share --------------------------------------------------------------

fn share() -> Outcome {
    let m = Memory::create(MemoryKind::Shared, SHARE_BYTES as u64, Naming::Random).map_err(fail("create"))?;
    let name = *m.name().ok_or("create gave no name")?;
    let m2 = Memory::lookup(&name).map_err(fail("lookup"))?;
    let m3 = Memory::lookup_readonly(&name).map_err(fail("lookup read-only"))?;
    let mut w = m.acquire_write(0).map_err(fail("acquire_write"))?;
    if w.len() != SHARE_BYTES {
        return Err(format!("write buffer of {} bytes", w.len()));
    }
    for (i, b) in w.iter_mut().enumerate() {
        *b = pattern(i as u64);
    }
    w.commit(SHARE_BYTES).map_err(fail("commit_write"))?;
    w.release().map_err(fail("release_write"))?;
    for (who, r) in [("second reference", &m2), ("read-only reference", &m3)] {
        let t = r.acquire_read(0).map_err(fail("acquire_read"))?;
        if t.len() != SHARE_BYTES {
            return Err(format!("{who}: read buffer of {} bytes", t.len()));
        }
        if let Some(i) = (0..SHARE_BYTES).find(|&i| t[i] != pattern(i as u64)) {
            return Err(format!("{who}: byte {i} is {:#04x}, wrote {:#04x}", t[i], pattern(i as u64)));
        }
        t.release().map_err(fail("release_read"))?;
    }
    Ok(name.to_string())
}

// ---- 2. fifo100 ------------------------------------------------------------

fn fifo100() -> Outcome {
    // One reference is one end of a FIFO, and an anonymous object has no
    // second reference in the same task: the reader's end is a lookup of a
    // fresh random name.
    let w = Fifo::create(None, Naming::Random).map_err(fail("create"))?;
    let r = Fifo::lookup(w.name().ok_or("create gave no name")?).map_err(fail("lookup"))?;
    let want = (0..STREAM_BYTES).fold(FNV_OFFSET, |h, k| fnv1a(h, &[pattern(k)]));
    let t0 = Instant::now();
    let writer = thread::spawn(move || -> io::Result<()> {
        let mut k = 0u64;
        while k < STREAM_BYTES {
            let mut t = w.acquire_write(0)?;
            let n = (t.len() as u64).min(STREAM_BYTES - k) as usize;
            for (i, b) in t[..n].iter_mut().enumerate() {
                *b = pattern(k + i as u64);
            }
            t.commit_and_release(n)?;
            k += n as u64;
        }
        w.delete() // the writer end goes: the reader sees the end of the stream
    });
    let mut h = FNV_OFFSET;
    let mut got = 0u64;
    let end = loop {
        match r.acquire_read(0) {
            Ok(t) => {
                h = fnv1a(h, &t);
                got += t.len() as u64;
                t.release().map_err(fail("release_read"))?;
            }
            Err(e) => break e,
        }
    };
    let secs = t0.elapsed().as_secs_f64();
    writer.join().map_err(|_| "the writer thread panicked".to_string())?.map_err(fail("writer"))?;
    if end.raw_os_error() != Some(DIOS_EPIPE) {
        return Err(format!("the stream ended with {end}, not EPIPE"));
    }
    if got != STREAM_BYTES {
        return Err(format!("read {got} bytes, wrote {STREAM_BYTES}"));
    }
    if h != want {
        return Err(format!("checksum {h:016x}, the pattern's is {want:016x}"));
    }
    Ok(format!("fnv1a64={h:016x} {:.0} MiB/s", STREAM_BYTES as f64 / (1024.0 * 1024.0) / secs))
}

// ---- 3. spawn --------------------------------------------------------------

fn exit_with_status(_chan: Channel) {
    std::process::exit(CHILD_STATUS);
}

dios::entries!(exit_with_status);

fn spawn() -> Outcome {
    let c = dios::spawn_task(exit_with_status).map_err(fail("spawn_task"))?;
    let task = c.task().ok_or("no task")?;
    let pid = task.pid().map_err(fail("pid"))?;
    let st = c.wait().map_err(fail("wait"))?;
    if st.code() != Some(CHILD_STATUS) {
        return Err(format!("child {pid} ended with {st}, not exit status {CHILD_STATUS}"));
    }
    Ok(format!("pid {pid}"))
}

// ---- 4. errors -------------------------------------------------------------

/// `r` must be an `io::Error` carrying errno `code`; its name joins `done`.
fn expect_errno<T: std::fmt::Debug>(
    what: &str,
    r: io::Result<T>,
    code: i32,
    name: &str,
    done: &mut Vec<String>,
) -> Result<(), String> {
    match r {
        Err(e) if dios::errno_of(&e) == Some(code) => {
            done.push(name.to_string());
            Ok(())
        }
        Err(e) => Err(format!("{what}: {e} (errno {:?}), expected {name}", e.raw_os_error())),
        Ok(v) => Err(format!("{what}: succeeded ({v:?}), expected {name}")),
    }
}

fn random_name() -> io::Result<Name> {
    let mut b = [0u8; 32];
    File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(Name::from_bytes(b))
}

fn errors() -> Outcome {
    let mut done = Vec::new();
    let m = Memory::new(MemoryKind::Shared, 4096).map_err(fail("create"))?;

    // EBADF: a reference used after it was deleted.  Safe Rust cannot do
    // that (delete consumes the Ref), so the handle is kept by hand.
    let raw = m.into_ref().into_raw();
    // SAFETY: raw is held until this delete; afterwards only dios calls see it.
    let rc = unsafe { dios_delete(0, raw) };
    if rc != 0 {
        return Err(format!("delete: {}", io::Error::from_raw_os_error(-rc)));
    }
    // SAFETY: deliberately a stale handle: the call must answer EBADF.
    let stale = unsafe { Ref::from_raw(raw, None) };
    expect_errno("ref_info after delete", stale.info(), DIOS_EBADF, "EBADF", &mut done)?;
    let _ = stale.into_raw(); // (not released a second time)

    expect_errno(
        "lookup of a fresh random name",
        Ref::lookup(&random_name().map_err(fail("/dev/urandom"))?),
        DIOS_ENOENT,
        "ENOENT",
        &mut done,
    )?;

    let named = Memory::create(MemoryKind::Shared, 4096, Naming::Random).map_err(fail("create named"))?;
    let name = *named.name().ok_or("no name")?;
    expect_errno(
        "create with a bound name",
        Memory::create(MemoryKind::Shared, 4096, Naming::Given(name)),
        DIOS_EEXIST,
        "EEXIST",
        &mut done,
    )?;

    expect_errno("create of 0 bytes", Memory::new(MemoryKind::Shared, 0), DIOS_EINVAL, "EINVAL", &mut done)?;

    let ro = Memory::lookup_readonly(&name).map_err(fail("lookup read-only"))?;
    expect_errno("acquire_write on a read-only reference", ro.acquire_write(0), DIOS_EACCES, "EACCES", &mut done)?;

    let fw = Fifo::create(None, Naming::Random).map_err(fail("create FIFO"))?;
    let fr = Fifo::lookup(fw.name().ok_or("no name")?).map_err(fail("lookup FIFO"))?;
    expect_errno("non-blocking read of an empty FIFO", fr.try_acquire_read(0), DIOS_EAGAIN, "EAGAIN", &mut done)?;
    (&fw).write_all(b"8 bytes!").map_err(fail("write"))?;
    fw.delete().map_err(fail("delete writer"))?;
    let mut drained = [0u8; 8];
    (&fr).read_exact(&mut drained).map_err(fail("drain"))?;
    expect_errno("read after the writer went, drained", fr.acquire_read(0), DIOS_EPIPE, "EPIPE", &mut done)?;

    let z = Memory::create(MemoryKind::Shared, 4096, Naming::Random).map_err(fail("create"))?;
    let other = Memory::lookup(z.name().ok_or("no name")?).map_err(fail("lookup"))?;
    z.delete_zombify().map_err(fail("zombify"))?;
    expect_errno("read of a zombie", other.acquire_read(0), DIOS_EIDRM, "EIDRM", &mut done)?;

    let t = Exe::open("/bin/true").map_err(fail("dios_exe /bin/true"))?;
    expect_errno("dios_run of unbranded /bin/true", t.run(&["/bin/true"], &[]), DIOS_ENOEXEC, "ENOEXEC", &mut done)?;

    Ok(done.join(" "))
}

fn main() {
    type Scenario = (&'static str, fn() -> Outcome);
    let scenarios: [Scenario; 4] = [("share", share), ("fifo100", fifo100), ("spawn", spawn), ("errors", errors)];
    let mut all_ok = true;
    for (id, f) in scenarios {
        let r = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(format!("panicked: {msg}"))
        });
        match r {
            Ok(detail) => println!("scenario rust {id} ok {detail}"),
            Err(why) => {
                all_ok = false;
                println!("scenario rust {id} FAIL {}", why.replace('\n', " "));
            }
        }
    }
    std::process::exit(if all_ok { 0 } else { 1 });
}
