//! Typed objects: memory, FIFOs, blobs, the console, tasks, executables and
//! groups, each a [`Ref`] of a known type.

use std::ffi::{CString, OsStr};
use std::fmt;
use std::io::{self, Read, Write};
use std::ops::Deref;
use std::os::raw::{c_char, c_int};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;
use std::path::Path;
use std::process::ExitStatus;
use std::ptr;

use dios_sys::*;

use crate::error::{cvt, errno, is};
use crate::name::Name;
use crate::reference::{create, Naming, Object, ObjectType, Ref, Sealed};
use crate::txn::{ReadTxn, WriteTxn};

macro_rules! typed_object {
    ($(#[$m:meta])* $t:ident, $($ty:ident)|+) => {
        $(#[$m])*
        pub struct $t {
            r: Ref,
        }
        impl Sealed for $t {}
        impl Object for $t {
            fn accepts(t: ObjectType) -> bool {
                matches!(t, $(ObjectType::$ty)|+)
            }
            fn wrap(r: Ref) -> Self {
                $t { r }
            }
            fn as_dios_ref(&self) -> &Ref {
                &self.r
            }
            fn into_ref(self) -> Ref {
                self.r
            }
        }
        impl $t {
            /// Looks a name up ([`Object::lookup`]; an error for another type of object).
            pub fn lookup(name: &Name) -> io::Result<$t> {
                <$t as Object>::lookup(name)
            }
            /// Looks a name up for a read-only reference ([`Object::lookup_readonly`]).
            pub fn lookup_readonly(name: &Name) -> io::Result<$t> {
                <$t as Object>::lookup_readonly(name)
            }
            /// This type of object from a reference ([`Object::from_ref`]).
            pub fn from_ref(r: Ref) -> io::Result<$t> {
                <$t as Object>::from_ref(r)
            }
            /// The reference, giving up the type.
            pub fn into_ref(self) -> Ref {
                self.r
            }
            /// Releases the reference, reporting the answer ([`Ref::delete`]).
            pub fn delete(self) -> io::Result<()> {
                self.r.delete()
            }
            /// Kills the object for every holder ([`Ref::delete_zombify`]).
            pub fn delete_zombify(self) -> io::Result<()> {
                self.r.delete_zombify()
            }
        }
        impl Deref for $t {
            type Target = Ref;
            fn deref(&self) -> &Ref {
                &self.r
            }
        }
        impl AsRef<Ref> for $t {
            fn as_ref(&self) -> &Ref {
                &self.r
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($t)).field(&self.r).finish()
            }
        }
    };
}

// ---- memory ----------------------------------------------------------------

/// Which kind of memory object.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MemoryKind {
    /// `D_OBJ_PRIVMEM`: only the creating task may hold it.
    Private,
    /// `D_OBJ_SHMEM`: shared memory, random access.
    Shared,
}

typed_object!(
    /// A memory object (private or shared).  Its memory is allocated at the
    /// first acquire; every acquire maps it from offset 0.
    Memory,
    PrivateMemory | SharedMemory
);

impl Memory {
    /// An anonymous memory object of `size` bytes (1 to `DIOS_MAX_OBJECT_SIZE`;
    /// `EINVAL` otherwise).
    pub fn new(kind: MemoryKind, size: u64) -> io::Result<Memory> {
        Memory::create(kind, size, Naming::Anonymous)
    }

    /// A memory object, named as `naming` says.
    pub fn create(kind: MemoryKind, size: u64, naming: Naming) -> io::Result<Memory> {
        Ok(Memory { r: create(mem_type(kind), Some(size), naming, None)? })
    }

    /// A named memory object whose name is bound in `group` (a group this
    /// task belongs to) instead of its default group.
    pub fn create_in(group: &Group, kind: MemoryKind, size: u64, naming: Naming) -> io::Result<Memory> {
        Ok(Memory { r: create(mem_type(kind), Some(size), naming, Some(&group.r))? })
    }

    /// The object's size in bytes.
    pub fn size(&self) -> io::Result<u64> {
        Ok(self.r.info()?.size)
    }

    /// Maps the first `len` bytes for reading (0: the whole object).
    /// `EACCES` without read permission.
    pub fn acquire_read(&self, len: u64) -> io::Result<ReadTxn<'_>> {
        ReadTxn::acquire(&self.r, 0, len)
    }

    /// Maps the first `len` bytes for writing (0: the whole object).
    /// `EACCES` on a read-only reference.  Waits while another task's (or
    /// transaction's) exclusive write buffer is out.
    pub fn acquire_write(&self, len: u64) -> io::Result<WriteTxn<'_>> {
        WriteTxn::acquire(&self.r, 0, len)
    }

    /// An exclusive write buffer (`D_ACQUIRE_EXCLUSIVE`, the seed's MUTEX
    /// write consistency): waits until no other write buffer of the object
    /// is out, then keeps every other writer waiting until it is released
    /// (dropped).  A read-modify-write through it is exact when every writer
    /// of the object uses it.  Waiting for an exclusive buffer of this same
    /// transaction's thread never ends: use [`try_acquire_write_exclusive`](Self::try_acquire_write_exclusive).
    pub fn acquire_write_exclusive(&self, len: u64) -> io::Result<WriteTxn<'_>> {
        WriteTxn::acquire(&self.r, D_ACQUIRE_EXCLUSIVE, len)
    }

    /// As [`acquire_write_exclusive`](Self::acquire_write_exclusive), but
    /// never waits: an error of kind `WouldBlock` (`EAGAIN`) while another
    /// write buffer is out.
    pub fn try_acquire_write_exclusive(&self, len: u64) -> io::Result<WriteTxn<'_>> {
        WriteTxn::acquire(&self.r, D_ACQUIRE_EXCLUSIVE | D_NONBLOCK, len)
    }

    /// As [`acquire_write`](Self::acquire_write), but never waits: `WouldBlock`
    /// while an exclusive write buffer is out (or waited for).
    pub fn try_acquire_write(&self, len: u64) -> io::Result<WriteTxn<'_>> {
        WriteTxn::acquire(&self.r, D_NONBLOCK, len)
    }
}

fn mem_type(kind: MemoryKind) -> dios_object_type_t {
    match kind {
        MemoryKind::Private => D_OBJ_PRIVMEM,
        MemoryKind::Shared => D_OBJ_SHMEM,
    }
}

// ---- FIFOs -----------------------------------------------------------------

/// A FIFO: a byte stream from one writer end to one reader end, in shared
/// memory (the daemon is called only to wait).  The first reference to
/// acquire for reading becomes the reader end, the first to acquire for
/// writing the writer end (others get `EBUSY`); so one reference is one end.
///
/// `Read` and `Write` (also on `&Fifo`) are built on the transactions.  Read
/// returns `Ok(0)` at the end of the stream (the writer end gone and
/// everything read: `EPIPE` from the shim).  A write of up to the capacity
/// (4096 bytes when the capacity is not known) waits for room for all of it
/// and publishes it at once, as a pipe does for `PIPE_BUF`; a longer one
/// writes what fits.  Writing once the reader end is gone is `EPIPE`.
pub struct Fifo {
    r: Ref,
    cap: Option<u64>,
}

impl Sealed for Fifo {}
impl Object for Fifo {
    fn accepts(t: ObjectType) -> bool {
        t == ObjectType::Fifo
    }
    fn wrap(r: Ref) -> Self {
        Fifo { r, cap: None }
    }
    fn as_dios_ref(&self) -> &Ref {
        &self.r
    }
    fn into_ref(self) -> Ref {
        self.r
    }
}
impl Deref for Fifo {
    type Target = Ref;
    fn deref(&self) -> &Ref {
        &self.r
    }
}
impl AsRef<Ref> for Fifo {
    fn as_ref(&self) -> &Ref {
        &self.r
    }
}
impl fmt::Debug for Fifo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fifo").field("ref", &self.r).field("capacity", &self.cap).finish()
    }
}

fn round_capacity(c: u64) -> u64 {
    let a = DIOS_FIFO_ALIGN as u64;
    c.div_ceil(a) * a
}

impl Fifo {
    /// An anonymous FIFO of the default capacity (`DIOS_FIFO_DEFAULT_CAPACITY`).
    pub fn new() -> io::Result<Fifo> {
        Fifo::create(None, Naming::Anonymous)
    }

    /// An anonymous FIFO of `capacity` bytes (1 to `DIOS_FIFO_MAX_CAPACITY`,
    /// rounded up to `DIOS_FIFO_ALIGN`).
    pub fn with_capacity(capacity: u64) -> io::Result<Fifo> {
        Fifo::create(Some(capacity), Naming::Anonymous)
    }

    /// A FIFO of `capacity` bytes (`None`: the default), named as `naming` says.
    pub fn create(capacity: Option<u64>, naming: Naming) -> io::Result<Fifo> {
        let r = create(D_OBJ_FIFO, capacity, naming, None)?;
        Ok(Fifo { r, cap: Some(round_capacity(capacity.unwrap_or(DIOS_FIFO_DEFAULT_CAPACITY as u64))) })
    }

    /// As [`create`](Fifo::create), the name bound in `group`.
    pub fn create_in(group: &Group, capacity: Option<u64>, naming: Naming) -> io::Result<Fifo> {
        let r = create(D_OBJ_FIFO, capacity, naming, Some(&group.r))?;
        Ok(Fifo { r, cap: Some(round_capacity(capacity.unwrap_or(DIOS_FIFO_DEFAULT_CAPACITY as u64))) })
    }

    /// Looks a name up ([`Object::lookup`]; an error for another type of object).
    pub fn lookup(name: &Name) -> io::Result<Fifo> {
        <Fifo as Object>::lookup(name)
    }

    /// Looks a name up for a read-only reference ([`Object::lookup_readonly`]).
    pub fn lookup_readonly(name: &Name) -> io::Result<Fifo> {
        <Fifo as Object>::lookup_readonly(name)
    }

    /// A FIFO from a reference, e.g. one of [`delegated`](crate::delegated)
    /// ([`Object::from_ref`]).
    pub fn from_ref(r: Ref) -> io::Result<Fifo> {
        <Fifo as Object>::from_ref(r)
    }

    /// The reference, giving up the type.
    pub fn into_ref(self) -> Ref {
        self.r
    }

    /// Releases the reference, reporting the answer ([`Ref::delete`]): this
    /// end is gone, and the other sees the end of the stream.
    pub fn delete(self) -> io::Result<()> {
        self.r.delete()
    }

    /// Kills the FIFO for every holder ([`Ref::delete_zombify`]).
    pub fn delete_zombify(self) -> io::Result<()> {
        self.r.delete_zombify()
    }

    /// The capacity, when this reference created the FIFO (a looked-up or
    /// delegated one does not know it).
    pub fn capacity(&self) -> Option<u64> {
        self.cap
    }

    /// Up to `max` committed bytes (0: all there are), in place; waits until
    /// there are some.  `EPIPE` at the end of the stream.
    pub fn acquire_read(&self, max: u64) -> io::Result<ReadTxn<'_>> {
        ReadTxn::acquire(&self.r, 0, max)
    }

    /// As [`acquire_read`](Fifo::acquire_read), but never waits
    /// (`D_NONBLOCK`): with nothing to read, an error of kind `WouldBlock`
    /// (errno `EAGAIN`), as a non-blocking socket gives.
    pub fn try_acquire_read(&self, max: u64) -> io::Result<ReadTxn<'_>> {
        ReadTxn::acquire(&self.r, D_NONBLOCK, max)
    }

    /// As [`acquire_read`](Fifo::acquire_read), but waits at most
    /// `timeout` (also for a writer that has not bound its end yet): then
    /// an error of kind `TimedOut` (errno `ETIMEDOUT`), and no buffer is
    /// out.  What is written later goes to the next read.
    pub fn acquire_read_timeout(&self, max: u64, timeout: Duration) -> io::Result<ReadTxn<'_>> {
        ReadTxn::acquire_timeout(&self.r, max, timeout)
    }

    /// A buffer of `len` bytes at the tail (0: all the free space, at least
    /// 1 byte); waits for that much room.  `EINVAL` if `len` exceeds the
    /// capacity, `EPIPE` once the reader end is gone.  Publish with
    /// [`WriteTxn::commit_and_release`].
    pub fn acquire_write(&self, len: u64) -> io::Result<WriteTxn<'_>> {
        WriteTxn::acquire(&self.r, 0, len)
    }

    /// As [`acquire_write`](Fifo::acquire_write), but never waits: without
    /// room, `WouldBlock` (errno `EAGAIN`).
    pub fn try_acquire_write(&self, len: u64) -> io::Result<WriteTxn<'_>> {
        WriteTxn::acquire(&self.r, D_NONBLOCK, len)
    }

    /// As [`acquire_write`](Fifo::acquire_write), but waits at most
    /// `timeout` for the room: then `TimedOut` (errno `ETIMEDOUT`).
    pub fn acquire_write_timeout(&self, len: u64, timeout: Duration) -> io::Result<WriteTxn<'_>> {
        WriteTxn::acquire_timeout(&self.r, len, timeout)
    }

    /// The largest write published whole: the capacity, or the smallest
    /// capacity there is when it is not known.
    fn whole_write(&self) -> usize {
        self.cap.unwrap_or(DIOS_FIFO_ALIGN as u64).min(usize::MAX as u64) as usize
    }

    /// All of `data`, in as few commits as fit.
    pub(crate) fn write_all_bytes(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let n = write_some(self, data)?;
            data = &data[n..];
        }
        Ok(())
    }

    /// Exactly `buf.len()` bytes; `EPIPE` if the stream ends first.
    pub(crate) fn read_exact_bytes(&self, mut buf: &mut [u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let t = self.acquire_read(buf.len() as u64)?;
            let n = t.len().min(buf.len());
            buf[..n].copy_from_slice(&t[..n]);
            t.release()?;
            buf = &mut buf[n..];
        }
        Ok(())
    }
}

fn write_some(f: &Fifo, data: &[u8]) -> io::Result<usize> {
    let mut t = if data.len() <= f.whole_write() {
        f.acquire_write(data.len() as u64)?
    } else {
        f.acquire_write(0)?
    };
    let n = t.len().min(data.len());
    t[..n].copy_from_slice(&data[..n]);
    t.commit_and_release(n)?;
    Ok(n)
}

/// A stream read through acquire/copy/release; the end of the stream
/// (`EPIPE`) is `Ok(0)`.
fn read_stream(r: &Ref, buf: &mut [u8], most: usize) -> io::Result<usize> {
    if buf.is_empty() {
        return Ok(0);
    }
    let want = buf.len().min(most) as u64;
    let t = match ReadTxn::acquire(r, 0, want) {
        Ok(t) => t,
        Err(e) if is(&e, DIOS_EPIPE) => return Ok(0),
        Err(e) => return Err(e),
    };
    let n = t.len().min(buf.len());
    buf[..n].copy_from_slice(&t[..n]);
    t.release()?;
    Ok(n)
}

impl Read for &Fifo {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_stream(&self.r, buf, usize::MAX)
    }
}

impl Read for Fifo {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for &Fifo {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        write_some(self, buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.write_all_bytes(buf)
    }
    /// Every write is published when it returns: nothing to flush.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Write for Fifo {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.write_all_bytes(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

// ---- blobs -----------------------------------------------------------------

typed_object!(
    /// A blob: a byte object kept in a file of the daemon's state directory.
    /// A named blob is durable (survives daemon restarts until zombified);
    /// an anonymous one dies with its last reference.
    Blob,
    Blob
);

impl Blob {
    /// An anonymous blob of `size` zero bytes (`None`: empty).
    pub fn new(size: Option<u64>) -> io::Result<Blob> {
        Blob::create(size, Naming::Anonymous)
    }

    /// A blob, named as `naming` says (a named blob is durable: the call
    /// returns once it is on stable storage).
    pub fn create(size: Option<u64>, naming: Naming) -> io::Result<Blob> {
        Ok(Blob { r: create(D_OBJ_BLOB, size, naming, None)? })
    }

    /// The committed size in bytes.
    pub fn size(&self) -> io::Result<u64> {
        Ok(self.r.info()?.size)
    }

    /// Maps the first `len` bytes for reading (0: the committed size; more
    /// is `EINVAL`).
    pub fn acquire_read(&self, len: u64) -> io::Result<ReadTxn<'_>> {
        ReadTxn::acquire(&self.r, 0, len)
    }

    /// Maps `len` bytes for writing (0: the committed size); `len` may
    /// exceed the size, and a commit past it grows the blob.  Waits while an
    /// exclusive write buffer is out.
    pub fn acquire_write(&self, len: u64) -> io::Result<WriteTxn<'_>> {
        WriteTxn::acquire(&self.r, 0, len)
    }

    /// An exclusive write buffer, as [`Memory::acquire_write_exclusive`].
    pub fn acquire_write_exclusive(&self, len: u64) -> io::Result<WriteTxn<'_>> {
        WriteTxn::acquire(&self.r, D_ACQUIRE_EXCLUSIVE, len)
    }

    /// As [`acquire_write_exclusive`](Self::acquire_write_exclusive), but
    /// never waits (`WouldBlock`).
    pub fn try_acquire_write_exclusive(&self, len: u64) -> io::Result<WriteTxn<'_>> {
        WriteTxn::acquire(&self.r, D_ACQUIRE_EXCLUSIVE | D_NONBLOCK, len)
    }

    /// As [`acquire_write`](Self::acquire_write), but never waits (`WouldBlock`).
    pub fn try_acquire_write(&self, len: u64) -> io::Result<WriteTxn<'_>> {
        WriteTxn::acquire(&self.r, D_NONBLOCK, len)
    }
}

// ---- the console -----------------------------------------------------------

typed_object!(
    /// The console: output goes to the terminal the task was started from;
    /// without one, a task started by dios_run writes to the stderr it
    /// inherited (as a Unix child would), and any other task to the daemon's
    /// log tagged with the task (`task N (pid P) console: ...`).  Input is what is typed there; without
    /// a terminal, the end of input.  `Read`/`Write` move at most
    /// `DIOS_CONSOLE_BUF_BYTES` per call; reading at the end of input gives `Ok(0)`.
    Console,
    Console
);

impl Console {
    /// A reference to the console (a lookup of its well-known name).
    pub fn open() -> io::Result<Console> {
        Console::lookup(&Name::console())
    }

    /// What was typed, up to `max` bytes (0: the whole buffer); waits for
    /// input.  `EPIPE` without a terminal or at the end of input.
    pub fn acquire_read(&self, max: u64) -> io::Result<ReadTxn<'_>> {
        ReadTxn::acquire(&self.r, 0, max)
    }

    /// As [`acquire_read`](Console::acquire_read), but waits at most
    /// `timeout`: then `TimedOut` (errno `ETIMEDOUT`); what is typed later
    /// goes to the next read.
    pub fn acquire_read_timeout(&self, max: u64, timeout: Duration) -> io::Result<ReadTxn<'_>> {
        ReadTxn::acquire_timeout(&self.r, max, timeout)
    }

    /// An output buffer of `len` bytes (at most `DIOS_CONSOLE_BUF_BYTES`; 0: all of it).
    pub fn acquire_write(&self, len: u64) -> io::Result<WriteTxn<'_>> {
        WriteTxn::acquire(&self.r, 0, len)
    }
}

const CONSOLE_BUF: usize = DIOS_CONSOLE_BUF_BYTES as usize;

impl Read for &Console {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_stream(&self.r, buf, CONSOLE_BUF)
    }
}

impl Read for Console {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for &Console {
    /// Formats the whole text first, so that one `write!` is one console
    /// write (the daemon's log shows it as one line per line).
    fn write_fmt(&mut self, args: fmt::Arguments<'_>) -> io::Result<()> {
        match args.as_str() {
            Some(s) => self.write_all(s.as_bytes()),
            None => self.write_all(fmt::format(args).as_bytes()),
        }
    }
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = buf.len().min(CONSOLE_BUF);
        let mut t = self.acquire_write(n as u64)?;
        let n = n.min(t.len());
        t[..n].copy_from_slice(&buf[..n]);
        t.commit_and_release(n)?;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Write for Console {
    fn write_fmt(&mut self, args: fmt::Arguments<'_>) -> io::Result<()> {
        (&*self).write_fmt(args)
    }
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

// ---- tasks -----------------------------------------------------------------

typed_object!(
    /// A task (a process diosd started, or one that connected by itself).
    /// Dropping the reference does not stop the task.
    Task,
    Task
);

impl Task {
    /// Waits for the task to end and returns its exit status.  An error if
    /// the status is not the daemon's to know (a task that connected by
    /// itself).
    pub fn wait(&self) -> io::Result<ExitStatus> {
        self.wait_flags(0).map(|s| s.expect("a blocking dios_wait returned EAGAIN"))
    }

    /// The exit status if the task has ended, else `None`.
    pub fn try_wait(&self) -> io::Result<Option<ExitStatus>> {
        self.wait_flags(D_NONBLOCK)
    }

    /// Waits at most `timeout` for the task to end: its exit status, or
    /// `None` if it still runs (it runs on; a later wait gets the status).
    pub fn wait_timeout(&self, timeout: Duration) -> io::Result<Option<ExitStatus>> {
        let mut st: c_int = 0;
        // SAFETY: a held reference, a valid out-pointer.
        match cvt(unsafe { dios_wait_timeout(0, self.r.as_raw(), &mut st, crate::timeout_ns(timeout)) }) {
            Ok(()) if st == -1 => {
                Err(io::Error::other("dios: the exit status of a task diosd did not spawn is unknown"))
            }
            Ok(()) => Ok(Some(ExitStatus::from_raw(st))),
            Err(e) if is(&e, DIOS_ETIMEDOUT) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn wait_flags(&self, flags: dios_flags_t) -> io::Result<Option<ExitStatus>> {
        let mut st: c_int = 0;
        // SAFETY: a held reference, a valid out-pointer.
        match cvt(unsafe { dios_wait(flags, self.r.as_raw(), &mut st) }) {
            Ok(()) if st == -1 => {
                Err(io::Error::other("dios: the exit status of a task diosd did not spawn is unknown"))
            }
            Ok(()) => Ok(Some(ExitStatus::from_raw(st))),
            Err(e) if is(&e, DIOS_EAGAIN) && flags & D_NONBLOCK != 0 => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The task's process id.
    pub fn pid(&self) -> io::Result<u32> {
        Ok(self.r.info()?.size as u32)
    }

    /// Delegates references to the task (`dios_copy`): they join its
    /// reference table, and it takes them with [`delegated`](crate::delegated),
    /// after those of its spawn.  `readonly`: the copies may only read.  All
    /// or nothing; `ESRCH` once the task has exited.
    pub fn delegate(&self, refs: &[&Ref], readonly: bool) -> io::Result<()> {
        let mut raw: Vec<*mut dios_ref_t> = refs.iter().map(|r| r.as_raw()).collect();
        let flags = if readonly { D_COPY_READONLY } else { 0 };
        // SAFETY: held references; the array lives through the call.
        cvt(unsafe { dios_copy(flags, raw.as_mut_ptr(), raw.len() as u64, self.r.as_raw()) })
    }
}

// ---- executables -----------------------------------------------------------

typed_object!(
    /// An executable program file (`D_OBJ_EXE`), named by SHA-256 of its
    /// canonical absolute path.  Only DIOS-branded programs run (`dios brand`;
    /// else `ENOEXEC`).
    Exe,
    Exe
);

impl Exe {
    /// The executable object of a program file (`dios_exe`; a relative path
    /// is resolved against the working directory).  The file is opened here,
    /// with this process's permissions, and tasks started from it run exactly
    /// that open file (`ENOENT` once it is no longer at its path: open it again).
    pub fn open<P: AsRef<Path>>(path: P) -> io::Result<Exe> {
        let c = CString::new(path.as_ref().as_os_str().as_bytes()).map_err(|_| errno(DIOS_EINVAL))?;
        let mut r: *mut dios_ref_t = ptr::null_mut();
        // SAFETY: c is NUL-terminated; a valid out-pointer.
        cvt(unsafe { dios_exe(c.as_ptr(), &mut r) })?;
        Ok(Exe { r: Ref::from_call(r, None)? })
    }

    /// This program's own executable object (`dios_self_exe`), to run copies
    /// of itself.
    pub fn current() -> io::Result<Exe> {
        // SAFETY: no arguments; the result is NULL or points at the shim's copy.
        let n = unsafe { dios_self_exe() };
        if n.is_null() {
            return Err(errno(DIOS_ENOTCONN));
        }
        // SAFETY: non-null: a name the shim keeps for the life of the task.
        // (The name of this task's executable object: no type check needed.)
        Ok(Exe { r: Ref::lookup(&Name(unsafe { *n }))? })
    }

    /// Starts a task running this program with `argv` (`argv[0]` included),
    /// the references `refs` delegated to it in order (it takes them with
    /// [`delegated`](crate::delegated)), in this task's groups, with this
    /// process's environment.  An unbranded program is a [`NotBranded`]
    /// error (errno `ENOEXEC`, see [`errno_of`]).
    pub fn run<S: AsRef<OsStr>>(&self, argv: &[S], refs: &[&Ref]) -> io::Result<Task> {
        self.run_with(argv, refs, &[], 0)
    }

    /// As [`run`](Exe::run), the child in exactly `groups` (empty: this
    /// task's), with `dios_run` flags (`dios::sys::D_RUN_SECCOMP_KILL`).
    pub fn run_with<S: AsRef<OsStr>>(
        &self,
        argv: &[S],
        refs: &[&Ref],
        groups: &[&Group],
        flags: u64,
    ) -> io::Result<Task> {
        self.run_env(argv, refs, groups, flags, None)
    }

    /// A task of this program to set up as with `std::process::Command`
    /// (arguments, environment, delegated references, groups), then
    /// [`spawn`](Command::spawn).  `argv0` is the child's `argv[0]`.
    pub fn command<S: AsRef<OsStr>>(&self, argv0: S) -> Command<'_> {
        Command {
            exe: self,
            argv: vec![argv0.as_ref().to_os_string()],
            refs: Vec::new(),
            groups: Vec::new(),
            flags: 0,
            env: EnvSpec::default(),
        }
    }

    /// dios_run_env: `env` None gives the child this process's environ.
    fn run_env<S: AsRef<OsStr>>(
        &self,
        argv: &[S],
        refs: &[&Ref],
        groups: &[&Group],
        flags: u64,
        env: Option<&[CString]>,
    ) -> io::Result<Task> {
        let args: Vec<CString> = argv
            .iter()
            .map(|a| CString::new(a.as_ref().as_bytes()).map_err(|_| errno(DIOS_EINVAL)))
            .collect::<io::Result<_>>()?;
        let mut argp: Vec<*mut c_char> = args.iter().map(|a| a.as_ptr() as *mut c_char).collect();
        argp.push(ptr::null_mut());
        let mut rp: Vec<*mut dios_ref_t> = refs.iter().map(|r| r.as_raw()).collect();
        let mut gp: Vec<*mut dios_ref_t> = groups.iter().map(|g| g.r.as_raw()).collect();
        let spec = dios_task_spec_t {
            argc: c_int::try_from(args.len()).map_err(|_| errno(DIOS_E2BIG))?,
            argv: argp.as_mut_ptr(),
            refs: if rp.is_empty() { ptr::null_mut() } else { rp.as_mut_ptr() },
            ref_count: rp.len() as u64,
            groups: if gp.is_empty() { ptr::null_mut() } else { gp.as_mut_ptr() },
            group_count: gp.len() as u64,
        };
        let envp: Option<Vec<*const c_char>> =
            env.map(|e| e.iter().map(|s| s.as_ptr()).chain(std::iter::once(ptr::null())).collect());
        let mut t: *mut dios_ref_t = ptr::null_mut();
        // SAFETY: every array outlives the call (envp's strings are env's); held references.
        let rc = unsafe {
            dios_run_env(flags, self.r.as_raw(), &spec, envp.as_ref().map_or(ptr::null(), |v| v.as_ptr()), &mut t)
        };
        if rc == -DIOS_ENOEXEC {
            return Err(io::Error::new(io::ErrorKind::Other, NotBranded(())));
        }
        cvt(rc)?;
        Ok(Task { r: Ref::from_call(t, None)? })
    }
}

/// dios_run refused the program (`ENOEXEC`): it lacks a DIOS brand (or is
/// not an ELF executable).  The `io::Error` that carries it has no
/// `raw_os_error()`; [`errno_of`] gives `ENOEXEC` for it.  Its message says
/// how to brand a program.
#[derive(Debug)]
pub struct NotBranded(());

impl fmt::Display for NotBranded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "dios_run: ENOEXEC: the program lacks a DIOS brand (or is not an ELF executable): dios_run starts \
             only branded programs; brand it with `dios brand --limbo PROGRAM` (`--pure` for a Pure DIOS task), \
             or build a crate with dist/bin/dios-cargo, which brands what it links"
        )
    }
}

impl std::error::Error for NotBranded {}

/// Environment changes, applied to this process's environment at spawn (as
/// `std::process::Command` does); none at all passes NULL to dios_run_env:
/// the shim sends `environ` itself.
#[derive(Debug, Default, Clone)]
pub(crate) struct EnvSpec {
    clear: bool,
    vars: std::collections::BTreeMap<std::ffi::OsString, Option<std::ffi::OsString>>,
}

impl EnvSpec {
    pub(crate) fn set(&mut self, k: &OsStr, v: &OsStr) {
        self.vars.insert(k.to_os_string(), Some(v.to_os_string()));
    }

    pub(crate) fn remove(&mut self, k: &OsStr) {
        self.vars.insert(k.to_os_string(), None);
    }

    pub(crate) fn clear(&mut self) {
        self.clear = true;
        self.vars.clear();
    }

    /// The `NAME=value` strings, or None (inherit `environ` as it is).
    /// `EINVAL` for a name that is empty or holds `=` or NUL, or a value with NUL.
    pub(crate) fn build(&self) -> io::Result<Option<Vec<CString>>> {
        if !self.clear && self.vars.is_empty() {
            return Ok(None);
        }
        let mut all: std::collections::BTreeMap<std::ffi::OsString, std::ffi::OsString> =
            if self.clear { Default::default() } else { std::env::vars_os().collect() };
        for (k, v) in &self.vars {
            let kb = k.as_bytes();
            if kb.is_empty() || kb.contains(&b'=') || kb.contains(&0) {
                return Err(errno(DIOS_EINVAL));
            }
            match v {
                Some(v) => {
                    all.insert(k.clone(), v.clone());
                }
                None => {
                    all.remove(k);
                }
            }
        }
        all.into_iter()
            .map(|(k, v)| {
                let mut b = k.into_vec();
                b.push(b'=');
                b.extend_from_slice(v.as_bytes());
                CString::new(b).map_err(|_| errno(DIOS_EINVAL))
            })
            .collect::<io::Result<Vec<_>>>()
            .map(Some)
    }
}

/// A task to start, built like `std::process::Command` ([`Exe::command`]):
/// the child inherits this process's environment unless told otherwise
/// ([`env`](Command::env), [`env_remove`](Command::env_remove),
/// [`env_clear`](Command::env_clear)); the daemon always sets its own
/// `DIOS_SOCKET` (and `DIOS_PURE` for a Pure DIOS program).  The strings,
/// NULs included, are at most `DIOS_RUN_MAX_ENV_BYTES` (16 KiB): `E2BIG`.
#[derive(Debug)]
pub struct Command<'a> {
    exe: &'a Exe,
    argv: Vec<std::ffi::OsString>,
    refs: Vec<&'a Ref>,
    groups: Vec<&'a Group>,
    flags: u64,
    env: EnvSpec,
}

impl<'a> Command<'a> {
    /// Adds an argument.
    pub fn arg<S: AsRef<OsStr>>(&mut self, a: S) -> &mut Self {
        self.argv.push(a.as_ref().to_os_string());
        self
    }

    /// Adds arguments.
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(&mut self, args: I) -> &mut Self {
        for a in args {
            self.arg(a);
        }
        self
    }

    /// Sets a variable of the child's environment.
    pub fn env<K: AsRef<OsStr>, V: AsRef<OsStr>>(&mut self, k: K, v: V) -> &mut Self {
        self.env.set(k.as_ref(), v.as_ref());
        self
    }

    /// Sets several.
    pub fn envs<I: IntoIterator<Item = (K, V)>, K: AsRef<OsStr>, V: AsRef<OsStr>>(&mut self, vars: I) -> &mut Self {
        for (k, v) in vars {
            self.env(k, v);
        }
        self
    }

    /// Leaves a variable out of the child's environment.
    pub fn env_remove<K: AsRef<OsStr>>(&mut self, k: K) -> &mut Self {
        self.env.remove(k.as_ref());
        self
    }

    /// Starts the child's environment empty (then [`env`](Command::env) adds to it).
    pub fn env_clear(&mut self) -> &mut Self {
        self.env.clear();
        self
    }

    /// Delegates a reference (in call order; the child takes them with
    /// [`delegated`](crate::delegated)).
    pub fn delegate(&mut self, r: &'a Ref) -> &mut Self {
        self.refs.push(r);
        self
    }

    /// Puts the child in `g` (once any is given: exactly those groups).
    pub fn group(&mut self, g: &'a Group) -> &mut Self {
        self.groups.push(g);
        self
    }

    /// The environment changes of a [`TaskBuilder`](crate::TaskBuilder).
    pub(crate) fn env_spec(&mut self, env: EnvSpec) -> &mut Self {
        self.env = env;
        self
    }

    /// `dios_run` flags (`dios::sys::D_RUN_SECCOMP_KILL`).
    pub fn flags(&mut self, flags: u64) -> &mut Self {
        self.flags = flags;
        self
    }

    /// Starts the task (dios_run_env).  An unbranded program: [`NotBranded`].
    pub fn spawn(&self) -> io::Result<Task> {
        let env = self.env.build()?;
        self.exe.run_env(&self.argv, &self.refs, &self.groups, self.flags, env.as_deref())
    }
}

// ---- groups ----------------------------------------------------------------

typed_object!(
    /// A group: a name-visibility domain.  Its creator is a member; names
    /// created in it ([`Memory::create_in`], [`Fifo::create_in`]) resolve
    /// only for its members, and spawned tasks can be put in it
    /// ([`Exe::run_with`]).
    Group,
    Group
);

impl Group {
    /// A new group, with this task as a member.
    pub fn new() -> io::Result<Group> {
        Ok(Group { r: create(D_OBJ_GROUP, None, Naming::Anonymous, None)? })
    }
}
