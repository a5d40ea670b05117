//! Dropping releases: the daemon's counts of references, objects, names and
//! buffers return to where they were.  Alone in its own test binary (one
//! test): the counts are daemon-wide, so nothing else of this process may run
//! meanwhile, and it first waits until this is the daemon's only task (the
//! tasks of test binaries run before it have exited).

mod common;

use common::{daemon, eventually};
use dios::sys::*;
use dios::{Channel, DaemonStats, Fifo, Memory, MemoryKind, Naming, Ref};

fn echo_once(chan: Channel) {
    let v: u64 = chan.recv().unwrap();
    chan.send(v).unwrap();
}

dios::entries!(echo_once);

fn stats() -> DaemonStats {
    dios::daemon_stats().unwrap()
}

/// Waits until the counts are back at `base` (the daemon releases a gone
/// task's references as it learns of its exit, so this may take a moment).
fn back_to(base: &DaemonStats, what: &str) {
    eventually(&format!("{what}: counts back to {base:?} (now {:?})", stats()), || {
        let s = stats();
        (s.refs == base.refs
            && s.objects == base.objects
            && s.names == base.names
            && s.buffers == base.buffers
            && s.tasks == base.tasks)
            .then_some(())
    });
}

#[test]
fn drop_releases_references_objects_and_buffers() {
    daemon();
    eventually("this test is the daemon's only task", || (stats().tasks == 1).then_some(()));
    // a first spawn looks this program's executable up once (kept for later spawns)
    let c = dios::spawn_task(echo_once).unwrap();
    c.send(1u64).unwrap();
    assert_eq!(c.recv::<u64>().unwrap(), 1);
    assert!(c.wait().unwrap().success());
    drop(c);
    let base = eventually("the first child is gone", || {
        let s = stats();
        (s.tasks == 1).then_some(s)
    });

    // references and objects
    let m = Memory::new(MemoryKind::Shared, 4096).unwrap();
    let f = Fifo::new().unwrap();
    let s = stats();
    assert_eq!((s.refs, s.objects), (base.refs + 2, base.objects + 2));
    let raw = m.as_raw();
    drop(m);
    drop(f);
    back_to(&base, "anonymous objects dropped");
    // the handle is gone from this task's table
    let mut info = dios_ref_info_t::default();
    assert_eq!(unsafe { dios_ref_info(raw, &mut info) }, -DIOS_EBADF);

    // names
    let named = Memory::create(MemoryKind::Shared, 4096, Naming::Random).unwrap();
    let again = Ref::lookup(named.name().unwrap()).unwrap();
    let s = stats();
    assert_eq!((s.refs, s.objects, s.names), (base.refs + 2, base.objects + 1, base.names + 1));
    drop(named);
    assert_eq!(stats().refs, base.refs + 1, "one reference left");
    drop(again);
    back_to(&base, "a named object's references dropped");

    // buffers: dropping a transaction releases its buffer
    let m = Memory::new(MemoryKind::Shared, 4096).unwrap();
    let mut w = m.acquire_write(0).unwrap();
    w[0] = 1;
    w.commit(1).unwrap();
    assert_eq!(stats().buffers, base.buffers + 1);
    drop(w);
    assert_eq!(stats().buffers, base.buffers);
    let r = m.acquire_read(0).unwrap();
    assert_eq!((stats().buffers, r[0]), (base.buffers + 1, 1));
    r.release().unwrap();
    assert_eq!(stats().buffers, base.buffers);
    // a panic while a buffer is out unwinds through the drop: released too
    // (quietly: this test is alone in its binary, so the hook is its own)
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _w = m.acquire_write(0).unwrap();
        panic!("on purpose, with a buffer out");
    }));
    std::panic::set_hook(hook);
    assert!(caught.is_err());
    assert_eq!(stats().buffers, base.buffers);
    drop(m);
    back_to(&base, "memory with its buffers dropped");

    // a task and its channel: the child's references go with it, ours with the channel
    let c = dios::spawn_task(echo_once).unwrap();
    c.send(7u64).unwrap();
    assert_eq!(c.recv::<u64>().unwrap(), 7);
    assert!(c.wait().unwrap().success());
    assert!(stats().refs >= base.refs + 3, "the channel's two FIFOs and the task");
    drop(c);
    back_to(&base, "a finished task's channel dropped");
}
