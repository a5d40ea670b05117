//! The safe Rust API for DIOS tasks: the Hephaestus runtime of the seed
//! dissertation, made safe, over libdlibc (through the raw `dios-sys`).
//!
//! * [`Name`]: 256-bit names, shown and parsed in their 43-character text form.
//! * [`Ref`]: a reference, released when dropped; typed objects over it:
//!   [`Memory`], [`Fifo`], [`Blob`], [`Console`], [`Task`], [`Exe`], [`Group`].
//! * I/O transactions ([`ReadTxn`], [`WriteTxn`]): the object's own mapped
//!   memory as `&[u8]` / `&mut [u8]`, which cannot outlive the buffer.
//! * `std::io::Read`/`Write` for FIFOs and the console; [`select`].
//! * Tasks: [`spawn_task`] runs a function listed in [`entries!`] in a copy
//!   of this program, with a [`Channel`] to it; panics go to the console
//!   ([`init`]).
//!
//! Every failing call is a `std::io::Error` whose `raw_os_error()` is the
//! errno the daemon answered (`EBADF`, `ENOENT`, `EIDRM`...), so
//! `e.kind()` and the message are the usual ones.  `ENOTCONN` and `ENOMEM`
//! also say what to do: their inner error is a [`Detailed`] whose text names
//! the daemon's socket, or the limit reached (its value and diosd flag);
//! [`errno_of`] gives the errno of either kind.  After the daemon died and
//! came back, [`reconnect`] starts this process over as a new task.
//!
//! ```no_run
//! use std::io::Write;
//!
//! fn main() -> std::io::Result<()> {
//!     // a named shared-memory object, written in place
//!     let mem = dios::Memory::create(dios::MemoryKind::Shared, 4096, dios::Naming::Random)?;
//!     let mut w = mem.acquire_write(0)?;
//!     w[..5].copy_from_slice(b"hello");
//!     w.commit(5)?;
//!     drop(w);                              // releases the buffer
//!     println!("named {}", mem.name().unwrap());
//!     writeln!(dios::Console::open()?, "hello from a DIOS task")?;
//!     Ok(())
//! }
//! ```
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod error;
mod name;
mod objects;
mod panic;
mod reference;
mod task;
mod txn;
pub mod wire;

use std::io;
use std::ptr;
use std::time::Duration;

pub use dios_sys as sys;
use dios_sys::*;

pub use error::{errno_of, Detailed};
pub use name::Name;
pub use objects::{Blob, Command, Console, Exe, Fifo, Group, Memory, MemoryKind, NotBranded, Task};
pub use panic::init;
pub use reference::{Naming, Object, ObjectType, Ref, RefInfo};
#[doc(hidden)]
pub use task::__rt;
pub use task::{spawn_task, Channel, TaskBuilder, ENTRY_ARG};
pub use txn::{ReadTxn, WriteTxn};
pub use wire::{Encode, Wire};

use error::{cvt, errno, is};

/// Daemon-wide counts (`dios_daemon_stats`), for diagnostics and leak checks.
pub type DaemonStats = dios_daemon_stats_t;

/// Daemon-wide counts: tasks, objects, names, references, buffers, segments.
pub fn daemon_stats() -> io::Result<DaemonStats> {
    let mut s = DaemonStats::default();
    // SAFETY: a valid out-pointer.
    cvt(unsafe { dios_daemon_stats(&mut s) })?;
    Ok(s)
}

/// The null call: a round trip to the daemon that does nothing (connects
/// on the first call).
pub fn nop() -> io::Result<()> {
    // SAFETY: no pointers.
    cvt(unsafe { dios_nop(0) })
}

/// After the daemon died (every call fails with `ENOTCONN`), registers this
/// process again as a new task once a daemon listens (`dios_reconnect`).
/// The new task holds no references: look durable objects up again by
/// name; every [`Ref`] of the dead registration keeps failing with
/// `ENOTCONN`.  `Ok` at once while the connection is up.  Errors:
/// `ENOTCONN` (no daemon yet: retry), `EBUSY` (another thread's call on the
/// dead connection has not returned), `EPERM` (a Pure DIOS task cannot open
/// a socket), `EAGAIN` (the daemon's task limit).
pub fn reconnect() -> io::Result<()> {
    // SAFETY: no arguments.
    match unsafe { dios_sys::dios_reconnect() } {
        0 => Ok(()),
        r if r < 0 => Err(error::detailed(-r)),
        _ => Err(errno(DIOS_EPROTO)),
    }
}

/// Takes up to `max` references delegated to this task: first those its
/// spawner passed (in order), then those [`Task::delegate`] delivered.
/// Fewer (or none) if fewer are waiting.
pub fn delegated(max: usize) -> io::Result<Vec<Ref>> {
    if max == 0 {
        return Ok(Vec::new());
    }
    let mut raw: Vec<*mut dios_ref_t> = vec![ptr::null_mut(); max];
    let mut n = max as u64;
    // SAFETY: raw has room for n references.
    cvt(unsafe { dios_delegated(0, raw.as_mut_ptr(), &mut n) })?;
    if n as usize > max {
        return Err(errno(DIOS_EPROTO));
    }
    raw.truncate(n as usize);
    raw.into_iter().map(|p| Ref::from_call(p, None)).collect()
}

/// Waits until one of `refs` is ready and returns its index (the first ready
/// one in order).  Ready: a FIFO's reader has data or the end of the stream,
/// its writer has room or a gone reader; the console has input or its end; a
/// task has exited; memory is always ready.  At most `DIOS_MAX_SELECT_REFS`
/// (`E2BIG`).
///
/// ```no_run
/// # fn f(a: &dios::Fifo, b: &dios::Fifo) -> std::io::Result<()> {
/// match dios::select(&[a, b])? {
///     0 => { /* a is ready */ }
///     _ => { /* b is ready */ }
/// }
/// # Ok(()) }
/// ```
pub fn select(refs: &[&Ref]) -> io::Result<usize> {
    Ok(select_flags(refs, 0)?.expect("a blocking dios_select returned EAGAIN"))
}

/// As [`select`], but `Ok(None)` instead of waiting when none is ready.
pub fn try_select(refs: &[&Ref]) -> io::Result<Option<usize>> {
    select_flags(refs, D_NONBLOCK)
}

/// As [`select`], but waits at most `timeout`: `Ok(None)` if none became
/// ready by then.  The daemon keeps the deadline; a select that timed out
/// leaves nothing waiting, and what becomes ready later is there for the
/// next select.  A timeout too long to matter (over about 146 years) never
/// expires; `Duration::ZERO` does not wait.
pub fn select_timeout(refs: &[&Ref], timeout: Duration) -> io::Result<Option<usize>> {
    let mut raw: Vec<*mut dios_ref_t> = refs.iter().map(|r| r.as_raw()).collect();
    let mut ready: *mut dios_ref_t = ptr::null_mut();
    // SAFETY: held references; raw outlives the call.
    let rc = unsafe { dios_select_timeout(0, raw.as_mut_ptr(), raw.len() as u64, &mut ready, timeout_ns(timeout)) };
    match cvt(rc) {
        Ok(()) => raw.iter().position(|&p| p == ready).map(Some).ok_or_else(|| errno(DIOS_EPROTO)),
        Err(e) if is(&e, DIOS_ETIMEDOUT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A `Duration` as the shim's `timeout_ns`: saturated, never wrapped.
pub(crate) fn timeout_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn select_flags(refs: &[&Ref], flags: dios_flags_t) -> io::Result<Option<usize>> {
    let mut raw: Vec<*mut dios_ref_t> = refs.iter().map(|r| r.as_raw()).collect();
    let mut ready: *mut dios_ref_t = ptr::null_mut();
    // SAFETY: held references; raw outlives the call.
    match cvt(unsafe { dios_select(flags, raw.as_mut_ptr(), raw.len() as u64, &mut ready) }) {
        Ok(()) => raw.iter().position(|&p| p == ready).map(Some).ok_or_else(|| errno(DIOS_EPROTO)),
        Err(e) if is(&e, DIOS_EAGAIN) && flags & D_NONBLOCK != 0 => Ok(None),
        Err(e) => Err(e),
    }
}
