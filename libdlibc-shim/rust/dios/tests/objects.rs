//! Names, references and the typed objects against a real daemon: bytes
//! written are the bytes read, the errno of each refusal is kept, FIFOs'
//! Read/Write adapters, select, blobs and the console.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use common::{console_lines_of, daemon, random_name};
use dios::sys::*;
use dios::{Blob, Console, Fifo, Memory, MemoryKind, Name, Naming, ObjectType, Ref};

fn pattern(i: usize, seed: u8) -> u8 {
    (i as u8).wrapping_mul(31).wrapping_add(seed)
}

// ---- names -----------------------------------------------------------------

#[test]
fn name_text_form_and_sha256() {
    // SHA-256("abc") = ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 96177a9c b410ff61 f20015ad
    let n = Name::from_string("abc").unwrap();
    let hex: String = n.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    let text = n.to_string();
    assert_eq!(text, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
    assert_eq!(text.parse::<Name>().unwrap(), n);
    assert_eq!(format!("{n:?}"), format!("Name({text})"));
    assert_eq!(Name::from_string("abc").unwrap(), n, "deterministic");
    assert_ne!(Name::from_string("abd").unwrap(), n);
    assert_eq!(Name::console(), Name::from_string("dios:console").unwrap());
    for bad in ["", "too short", &text[1..], &format!("{text}A"), &text.replace('u', "!"), "a\0b"] {
        let e = bad.parse::<Name>().unwrap_err();
        assert_eq!(e.raw_os_error(), Some(DIOS_EINVAL), "{bad:?}");
    }
    assert_eq!(Name::from_string("a\0b").unwrap_err().raw_os_error(), Some(DIOS_EINVAL));
}

// ---- memory ----------------------------------------------------------------

#[test]
fn memory_bytes_read_are_bytes_written() {
    daemon();
    let m = Memory::create(MemoryKind::Shared, 8192, Naming::Random).unwrap();
    let name = *m.name().unwrap();
    let other = Memory::lookup(&name).unwrap();
    let ro = Memory::lookup_readonly(&name).unwrap();
    assert_eq!(m.size().unwrap(), 8192);
    let info = ro.info().unwrap();
    assert_eq!(info.object_type, ObjectType::SharedMemory);
    assert!(info.can_read() && !info.can_write() && !info.can_delete() && info.is_named());
    assert!(m.info().unwrap().can_delete(), "the creator's reference may zombify");
    assert_eq!(m.info().unwrap().object_id, other.info().unwrap().object_id);

    let mut w = m.acquire_write(0).unwrap();
    assert_eq!(w.len(), 8192);
    for (i, b) in w.iter_mut().enumerate() {
        *b = pattern(i, 7);
    }
    w.commit(8192).unwrap();
    w.release().unwrap();
    for r in [&other, &ro] {
        let t = r.acquire_read(0).unwrap();
        assert_eq!(t.len(), 8192);
        assert!(t.iter().enumerate().all(|(i, &b)| b == pattern(i, 7)));
    }
    // a prefix
    let t = ro.acquire_read(100).unwrap();
    assert_eq!(&t[..], &(0..100).map(|i| pattern(i, 7)).collect::<Vec<_>>()[..]);
    drop(t);
    // past the end
    assert_eq!(m.acquire_read(8193).unwrap_err().raw_os_error(), Some(DIOS_EINVAL));
}

#[test]
fn read_commit_says_stale_after_a_write_and_rearms() {
    daemon();
    let m = Memory::create(MemoryKind::Shared, 4096, Naming::Random).unwrap();
    let reader = Memory::lookup(m.name().unwrap()).unwrap();
    let mut r = reader.acquire_read(0).unwrap();
    r.commit().unwrap();
    let mut w = m.acquire_write(0).unwrap();
    w[0] = 42;
    w.commit(1).unwrap();
    let e = r.commit().unwrap_err();
    assert_eq!(e.raw_os_error(), Some(DIOS_ESTALE));
    assert_eq!(r[0], 42, "the buffer is the object's memory: the write shows in place");
    // w is still out: a write is in progress, so nothing validates until it is released
    assert_eq!(r.commit().unwrap_err().raw_os_error(), Some(DIOS_ESTALE));
    w.commit(1).unwrap(); // a write buffer stays usable for more commits
    assert_eq!(r.commit().unwrap_err().raw_os_error(), Some(DIOS_ESTALE));
    drop(w);
    assert_eq!(r.commit().unwrap_err().raw_os_error(), Some(DIOS_ESTALE), "armed while w was out");
    r.commit().unwrap(); // re-armed with no writer out
    r.commit().unwrap();
}

#[test]
fn an_exclusive_write_keeps_other_writers_out_until_it_is_dropped() {
    daemon();
    let m = Memory::create(MemoryKind::Shared, 4096, Naming::Random).unwrap();
    let other = Memory::lookup(m.name().unwrap()).unwrap();
    let mut r = other.acquire_read(8).unwrap();
    let mut w = m.acquire_write_exclusive(8).unwrap();
    // another reference (as another task would): every write would wait
    let e = other.try_acquire_write(8).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(DIOS_EAGAIN));
    assert_eq!(e.kind(), ErrorKind::WouldBlock);
    assert_eq!(other.try_acquire_write_exclusive(0).unwrap_err().raw_os_error(), Some(DIOS_EAGAIN));
    assert_eq!(r.commit().unwrap_err().raw_os_error(), Some(DIOS_ESTALE), "a write is in progress");
    // read-modify-write under it
    let v = u64::from_ne_bytes(w[..8].try_into().unwrap());
    w[..8].copy_from_slice(&(v + 1).to_ne_bytes());
    w.commit(8).unwrap();
    drop(w);
    let mut w2 = other.try_acquire_write_exclusive(8).unwrap();
    assert_eq!(m.try_acquire_write(8).unwrap_err().raw_os_error(), Some(DIOS_EAGAIN));
    w2.commit(8).unwrap();
    drop(w2);
    // a plain writer out: an exclusive one must wait for it, a plain one need not
    let p = m.try_acquire_write(8).unwrap();
    assert_eq!(other.try_acquire_write_exclusive(8).unwrap_err().raw_os_error(), Some(DIOS_EAGAIN));
    let p2 = other.try_acquire_write(8).unwrap();
    drop((p, p2));
    let _ = r.commit(); // armed while writers were out
    r.commit().unwrap();
    assert_eq!(u64::from_ne_bytes(r[..8].try_into().unwrap()), 1);
    // blobs take the same flag
    let b = Blob::new(Some(8)).unwrap();
    let bw = b.acquire_write_exclusive(8).unwrap();
    assert_eq!(b.try_acquire_write(8).unwrap_err().raw_os_error(), Some(DIOS_EAGAIN));
    drop(bw);
    b.try_acquire_write_exclusive(8).unwrap().commit_and_release(8).unwrap();
}

#[test]
fn a_waiting_exclusive_writer_goes_on_when_the_holder_drops() {
    daemon();
    let m = Memory::create(MemoryKind::Shared, 64, Naming::Random).unwrap();
    let other = Memory::lookup(m.name().unwrap()).unwrap();
    let held = m.acquire_write_exclusive(8).unwrap();
    let t0 = std::time::Instant::now();
    thread::scope(|s| {
        let waiter = s.spawn(|| {
            let mut w = other.acquire_write_exclusive(8).unwrap(); // parks in the daemon
            let waited = t0.elapsed();
            w[..8].copy_from_slice(&7u64.to_ne_bytes());
            w.commit(8).unwrap();
            waited
        });
        thread::sleep(std::time::Duration::from_millis(200));
        assert!(!waiter.is_finished(), "it waits while the exclusive buffer is out");
        drop(held);
        let waited = waiter.join().unwrap();
        assert!(waited >= std::time::Duration::from_millis(150), "waited {waited:?}");
    });
    assert_eq!(u64::from_ne_bytes(m.acquire_read(8).unwrap()[..8].try_into().unwrap()), 7);
}

#[test]
fn atomics_over_a_write_buffer_are_shared_with_other_mappers() {
    daemon();
    let m = Memory::create(MemoryKind::Shared, 4096, Naming::Random).unwrap();
    let other = Memory::lookup(m.name().unwrap()).unwrap();
    let w = m.acquire_write(0).unwrap();
    let w2 = other.acquire_write(0).unwrap();
    let a = w.atomic_u64(8).unwrap();
    let b = w2.atomic_u64(8).unwrap();
    let threads = 2;
    let per = 50_000u64;
    // two mappings of one word, from two threads: every increment lands
    thread::scope(|s| {
        for i in 0..threads {
            let x = if i == 0 { a } else { b };
            s.spawn(move || {
                for _ in 0..per {
                    let mut v = x.load(std::sync::atomic::Ordering::Relaxed);
                    while let Err(seen) = x.compare_exchange_weak(
                        v,
                        v + 1,
                        std::sync::atomic::Ordering::AcqRel,
                        std::sync::atomic::Ordering::Relaxed,
                    ) {
                        v = seen;
                    }
                }
            });
        }
    });
    assert_eq!(a.load(std::sync::atomic::Ordering::Acquire), threads * per);
    assert_eq!(u64::from_ne_bytes(w[8..16].try_into().unwrap()), threads * per);
    assert_eq!(w.atomic_u64(4).unwrap_err().raw_os_error(), Some(DIOS_EINVAL), "unaligned");
    assert_eq!(w.atomic_u64(4096).unwrap_err().raw_os_error(), Some(DIOS_EINVAL), "past the end");
    assert_eq!(w.atomic_u64(4088).unwrap().load(std::sync::atomic::Ordering::Relaxed), 0, "the last word");
}

#[test]
fn errno_is_kept() {
    daemon();
    // ENOENT
    let e = Ref::lookup(&random_name()).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(DIOS_ENOENT));
    assert_eq!(e.kind(), ErrorKind::NotFound);
    // EEXIST
    let m = Memory::create(MemoryKind::Shared, 4096, Naming::Random).unwrap();
    let name = *m.name().unwrap();
    let e = Memory::create(MemoryKind::Shared, 4096, Naming::Given(name)).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(DIOS_EEXIST));
    assert_eq!(e.kind(), ErrorKind::AlreadyExists);
    // EINVAL
    assert_eq!(Memory::new(MemoryKind::Shared, 0).unwrap_err().raw_os_error(), Some(DIOS_EINVAL));
    assert_eq!(Fifo::with_capacity(0).unwrap_err().raw_os_error(), Some(DIOS_EINVAL));
    // EACCES
    let ro = Memory::lookup_readonly(&name).unwrap();
    let e = ro.acquire_write(0).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(DIOS_EACCES));
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    // a given name binds exactly that name
    let given = random_name();
    let g = Memory::create(MemoryKind::Private, 4096, Naming::Given(given)).unwrap();
    assert_eq!(g.name(), Some(&given));
    assert_eq!(Ref::lookup(&given).unwrap().info().unwrap().object_id, g.info().unwrap().object_id);
}

#[test]
fn zombify_and_clone() {
    daemon();
    let m = Memory::create(MemoryKind::Shared, 4096, Naming::Random).unwrap();
    let name = *m.name().unwrap();
    let twin = m.try_clone().unwrap();
    assert_eq!(twin.info().unwrap().object_id, m.info().unwrap().object_id);
    assert!(!twin.info().unwrap().can_delete(), "a looked-up reference may not zombify");
    let other = Memory::lookup(&name).unwrap();
    // zombifying without the permission is refused (and releases the reference)
    assert_eq!(twin.delete_zombify().unwrap_err().raw_os_error(), Some(DIOS_EACCES));
    m.delete_zombify().unwrap();
    let e = other.acquire_read(0).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(DIOS_EIDRM));
    assert!(other.info().unwrap().is_zombie());
    assert_eq!(Ref::lookup(&name).unwrap_err().raw_os_error(), Some(DIOS_ENOENT), "the name is unbound");
    assert_eq!(other.try_clone().unwrap_err().raw_os_error(), Some(DIOS_ENOENT));
    // an anonymous object has no second reference in this task
    let anon = Memory::new(MemoryKind::Shared, 4096).unwrap();
    assert_eq!(anon.try_clone().unwrap_err().kind(), ErrorKind::Unsupported);
}

#[test]
fn typed_lookup_checks_the_type() {
    daemon();
    let m = Memory::create(MemoryKind::Shared, 4096, Naming::Random).unwrap();
    let e = Fifo::lookup(m.name().unwrap()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let r = Ref::lookup(m.name().unwrap()).unwrap();
    let r = r.downcast::<Fifo>().unwrap_err(); // the reference comes back
    let mem: Memory = r.downcast().unwrap();
    assert_eq!(mem.size().unwrap(), 4096);
}

// ---- FIFOs -----------------------------------------------------------------

/// A FIFO's two ends in one task: the writer's reference and a lookup of its
/// name (one reference is one end).
fn fifo_pair(capacity: Option<u64>) -> (Fifo, Fifo) {
    let w = Fifo::create(capacity, Naming::Random).unwrap();
    let r = Fifo::lookup(w.name().unwrap()).unwrap();
    (w, r)
}

#[test]
fn fifo_read_write_adapters_keep_every_byte() {
    daemon();
    let (w, mut r) = fifo_pair(Some(8192));
    assert_eq!(w.capacity(), Some(8192));
    assert_eq!(r.capacity(), None);
    const TOTAL: usize = 3 << 20;
    let data: Vec<u8> = (0..TOTAL).map(|i| pattern(i, (i >> 13) as u8)).collect();
    let sent = data.clone();
    let writer = thread::spawn(move || {
        let mut w = w;
        let mut off = 0;
        // chunks below, at and above the capacity
        for (k, len) in [1usize, 7, 4096, 8192, 8193, 65536, 100_000].iter().cycle().enumerate() {
            if off == TOTAL {
                break;
            }
            let n = (*len).min(TOTAL - off);
            if k % 2 == 0 {
                w.write_all(&sent[off..off + n]).unwrap();
            } else {
                let mut done = 0;
                while done < n {
                    done += w.write(&sent[off + done..off + n]).unwrap();
                }
            }
            off += n;
        }
        w.flush().unwrap();
        // dropped here: the writer end goes
    });
    let mut got = Vec::new();
    let mut buf = vec![0u8; 5000];
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            break; // end of stream (EPIPE in the shim) is Ok(0)
        }
        got.extend_from_slice(&buf[..n]);
    }
    writer.join().unwrap();
    assert_eq!(got.len(), TOTAL);
    assert!(got == data, "bytes read differ from the bytes written");
    assert_eq!(r.read(&mut buf).unwrap(), 0, "the end of the stream stays");
    let e = r.acquire_read(0).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(DIOS_EPIPE), "the transaction call itself says EPIPE");
}

#[test]
fn fifo_transactions_zero_copy_and_nonblocking() {
    daemon();
    let (w, r) = fifo_pair(None);
    assert_eq!(r.try_acquire_read(0).unwrap_err().kind(), ErrorKind::WouldBlock);
    assert_eq!(r.try_acquire_read(0).unwrap_err().raw_os_error(), Some(DIOS_EAGAIN));
    let mut t = w.acquire_write(5).unwrap();
    assert_eq!(t.len(), 5);
    t.copy_from_slice(b"hello");
    t.commit_and_release(5).unwrap();
    // an uncommitted buffer publishes nothing
    let mut t = w.acquire_write(3).unwrap();
    t.copy_from_slice(b"xyz");
    drop(t);
    let t = r.acquire_read(0).unwrap();
    assert_eq!(&t[..], b"hello");
    t.release().unwrap();
    assert_eq!(r.try_acquire_read(0).unwrap_err().raw_os_error(), Some(DIOS_EAGAIN));
    // one reference is one end
    assert_eq!(w.acquire_read(0).unwrap_err().raw_os_error(), Some(DIOS_EBUSY));
    // larger than the capacity
    let cap = w.capacity().unwrap();
    assert_eq!(w.acquire_write(cap + 1).unwrap_err().raw_os_error(), Some(DIOS_EINVAL));
    // the reader goes: writing is EPIPE
    drop(r);
    let mut w = w;
    assert_eq!(w.write(b"x").unwrap_err().raw_os_error(), Some(DIOS_EPIPE));
}

#[test]
fn select_returns_the_ready_one() {
    daemon();
    let (wa, ra) = fifo_pair(None);
    let (wb, rb) = fifo_pair(None);
    // bind the reader ends first (a first acquire does)
    for r in [&ra, &rb] {
        assert_eq!(r.try_acquire_read(0).unwrap_err().raw_os_error(), Some(DIOS_EAGAIN));
    }
    assert_eq!(dios::try_select(&[&ra, &rb]).unwrap(), None);
    (&wb).write_all(b"b").unwrap();
    assert_eq!(dios::select(&[&ra, &rb]).unwrap(), 1);
    assert_eq!(dios::try_select(&[&ra, &rb]).unwrap(), Some(1));
    // wakes up a select parked in the daemon
    let t = thread::spawn(move || {
        thread::sleep(std::time::Duration::from_millis(100));
        (&wa).write_all(b"a").unwrap();
        wa
    });
    assert_eq!(dios::select(&[&ra]).unwrap(), 0);
    let _wa = t.join().unwrap();
    assert_eq!(dios::select(&[&ra, &rb]).unwrap(), 0, "the first ready one in order");
    // memory is always ready
    let m = Memory::new(MemoryKind::Shared, 4096).unwrap();
    assert_eq!(dios::select(&[&m]).unwrap(), 0);
    // errors keep their errno
    assert_eq!(dios::select(&[]).unwrap_err().raw_os_error(), Some(DIOS_EINVAL));
    drop(wb);
}

// ---- timeouts -----------------------------------------------------------------

/// `f()` returns after at least `at_least`, and well before 5 s more.
fn timed<T>(at_least: Duration, f: impl FnOnce() -> T) -> T {
    let t0 = Instant::now();
    let v = f();
    let took = t0.elapsed();
    assert!(took >= at_least && took < at_least + Duration::from_secs(5), "took {took:?} for {at_least:?}");
    v
}

#[test]
fn timeouts_give_up_and_leave_the_next_call_its_event() {
    daemon();
    let (w, r) = fifo_pair(Some(4096));
    let ms = Duration::from_millis;
    // a reader with no data: TimedOut, no buffer out (the non-blocking try is EAGAIN, not EBUSY)
    let e = timed(ms(150), || r.acquire_read_timeout(0, ms(150)).unwrap_err());
    assert_eq!(e.kind(), ErrorKind::TimedOut);
    assert_eq!(e.raw_os_error(), Some(DIOS_ETIMEDOUT));
    assert_eq!(r.try_acquire_read(0).unwrap_err().raw_os_error(), Some(DIOS_EAGAIN));
    assert_eq!(timed(ms(0), || r.acquire_read_timeout(0, Duration::ZERO).unwrap_err().kind()), ErrorKind::TimedOut);
    // select: None at the deadline
    assert_eq!(timed(ms(100), || dios::select_timeout(&[&r], ms(100)).unwrap()), None);
    // what is written after goes to the next calls
    (&w).write_all(b"late").unwrap();
    assert_eq!(dios::select_timeout(&[&r], Duration::MAX).unwrap(), Some(0), "Duration::MAX does not overflow");
    let t = r.acquire_read_timeout(0, Duration::from_secs(60)).unwrap();
    assert_eq!(&t[..], b"late");
    t.release().unwrap();
    // a writer on a full FIFO
    let mut t = w.acquire_write(4096).unwrap();
    t.fill(1);
    t.commit_and_release(4096).unwrap();
    let e = timed(ms(100), || w.acquire_write_timeout(1, ms(100)).unwrap_err());
    assert_eq!(e.kind(), ErrorKind::TimedOut);
    let t = r.acquire_read(10).unwrap();
    t.release().unwrap();
    let t = w.acquire_write_timeout(10, Duration::MAX).unwrap();
    assert_eq!(t.len(), 10);
    drop(t);
    // memory never waits
    let m = Memory::new(MemoryKind::Shared, 4096).unwrap();
    assert_eq!(dios::select_timeout(&[&m], Duration::ZERO).unwrap(), Some(0));
}

// ---- blobs and the console --------------------------------------------------

#[test]
fn blob_grows_on_commit() {
    daemon();
    let b = Blob::new(None).unwrap();
    assert_eq!(b.size().unwrap(), 0);
    let mut w = b.acquire_write(10_000).unwrap();
    assert_eq!(w.len(), 10_000);
    for (i, x) in w.iter_mut().enumerate() {
        *x = pattern(i, 3);
    }
    w.commit(6000).unwrap();
    assert_eq!(b.size().unwrap(), 6000);
    w.commit(10_000).unwrap();
    w.release().unwrap();
    assert_eq!(b.size().unwrap(), 10_000);
    let r = b.acquire_read(0).unwrap();
    assert_eq!(r.len(), 10_000);
    assert!(r.iter().enumerate().all(|(i, &x)| x == pattern(i, 3)));
    drop(r);
    assert_eq!(b.acquire_read(10_001).unwrap_err().raw_os_error(), Some(DIOS_EINVAL));
}

#[test]
fn console_without_a_terminal_goes_to_the_daemon_log() {
    daemon();
    let c = Console::open().unwrap();
    assert_eq!(c.info().unwrap().object_type, ObjectType::Console);
    let word = format!("console-check-{}", common::random_name());
    write!(&c, "{word} one line\nand {} another\n", 2).unwrap();
    let pid = std::process::id();
    let lines = console_lines_of(pid, |l| l.iter().any(|x| x == "and 2 another"));
    assert!(lines.iter().any(|x| *x == format!("{word} one line")), "console lines of pid {pid}: {lines:?}");
    assert!(lines.iter().any(|x| x == "and 2 another"), "console lines of pid {pid}: {lines:?}");
    // no terminal: the end of input at once
    let mut buf = [0u8; 16];
    assert_eq!((&c).read(&mut buf).unwrap(), 0);
    assert_eq!(c.acquire_read(0).unwrap_err().raw_os_error(), Some(DIOS_EPIPE));
}

#[test]
fn daemon_stats_and_nop() {
    daemon();
    dios::nop().unwrap();
    let s = dios::daemon_stats().unwrap();
    assert!(s.tasks >= 1 && s.refs >= 1 && s.objects >= 1, "{s:?}");
}
