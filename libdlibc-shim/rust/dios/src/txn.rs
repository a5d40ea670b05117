//! I/O transactions (seed section 3.5.2): acquire a buffer, commit, release.
//!
//! The buffer is the object's own memory, mapped into this task: no copy.  A
//! transaction borrows the reference it was acquired through, and the bytes
//! borrow the transaction, so neither can outlive the buffer: the borrow
//! checker refuses a slice kept past the release (dropping the transaction
//! releases the buffer).
//!
//! ```compile_fail,E0597
//! # fn main() -> std::io::Result<()> {
//! let mem = dios::Memory::new(dios::MemoryKind::Shared, 4096)?;
//! let bytes: &[u8] = {
//!     let txn = mem.acquire_read(0)?;
//!     &txn[..]            // error: `txn` does not live long enough
//! };
//! println!("{}", bytes[0]);
//! # Ok(()) }
//! ```
//!
//! Nor can the reference be released while a buffer of it is out:
//!
//! ```compile_fail,E0505
//! # fn main() -> std::io::Result<()> {
//! let mem = dios::Memory::new(dios::MemoryKind::Shared, 4096)?;
//! let txn = mem.acquire_write(0)?;
//! drop(mem);              // error: cannot move out of `mem` because it is borrowed
//! drop(txn);
//! # Ok(()) }
//! ```
//!
//! (The same with the bytes used while the transaction lives compiles:
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! let mem = dios::Memory::new(dios::MemoryKind::Shared, 4096)?;
//! let first = {
//!     let txn = mem.acquire_read(0)?;
//!     txn[0]
//! };
//! println!("{first}");
//! # Ok(()) }
//! ```
//!
//! and so does releasing the reference after the buffer:
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! let mem = dios::Memory::new(dios::MemoryKind::Shared, 4096)?;
//! let txn = mem.acquire_write(0)?;
//! drop(txn);
//! drop(mem);
//! # Ok(()) }
//! ```
//!
//! so the two failures above are the borrow checker's doing.)
//!
//! **Shared memory is shared.**  The slices are views of memory that other
//! tasks (or another transaction of this task, through the same or another
//! reference) may store into while they are held, as with a memory-mapped
//! file (memmap2 makes creating such a map `unsafe` for this reason): the
//! types keep a buffer from outliving its mapping, not other writers away.
//! The bytes are always initialised `u8`s, so reading them never yields an
//! invalid value, but they can change under a `&[u8]`, and two write buffers
//! of one object alias.  FIFOs are unaffected: the reader's and the writer's
//! buffers never overlap.  Three patterns are exact (dios.h, "Transactions
//! that hold"):
//!
//! * **read-validate**: copy or use the bytes, then [`ReadTxn::commit`]; `Ok`
//!   means no write was committed *or in progress* (a write buffer out)
//!   meanwhile, so what was read is one consistent state; `ESTALE`: read again.
//! * **exclusive read-modify-write**: [`Memory::acquire_write_exclusive`]
//!   (or the blob's) keeps every other writer waiting until the buffer is
//!   dropped; read, modify, commit, drop.
//! * **compare-and-swap on the mapping**: [`WriteTxn::atomic_u64`] gives an
//!   `AtomicU64` over an aligned word of a write buffer, shared with every
//!   task mapping the object.
//!
//! [`Memory::acquire_write_exclusive`]: crate::Memory::acquire_write_exclusive

use std::fmt;
use std::io;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::ptr::{self, NonNull};
use std::slice;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use dios_sys::*;

use crate::error::{cvt, errno};
use crate::reference::Ref;

/// A read buffer: `&[u8]` over the object's bytes (through `Deref`).
/// Released on drop.
pub struct ReadTxn<'r> {
    r: &'r Ref,
    iov: NonNull<dios_iovec_t>,
}

/// A write buffer: `&mut [u8]` over the object's bytes (through
/// `DerefMut`).  Nothing is published until a commit; released on drop
/// (uncommitted bytes of a FIFO buffer are dropped).
pub struct WriteTxn<'r> {
    r: &'r Ref,
    iov: NonNull<dios_iovec_t>,
}

fn iov_slice(iov: NonNull<dios_iovec_t>) -> (*mut u8, usize) {
    // SAFETY: iov was issued by an acquire of this task and is not released
    // (the transaction owns it until then).
    let v = unsafe { *iov.as_ptr() };
    if v.len == 0 || v.buf.is_null() {
        (NonNull::dangling().as_ptr(), 0)
    } else {
        (v.buf as *mut u8, v.len as usize)
    }
}

impl<'r> ReadTxn<'r> {
    pub(crate) fn acquire(r: &'r Ref, flags: dios_flags_t, len: u64) -> io::Result<ReadTxn<'r>> {
        let mut iov: *mut dios_iovec_t = ptr::null_mut();
        // SAFETY: a held reference, a valid out-pointer.
        cvt(unsafe { dios_acquire_read(flags, r.as_raw(), len, &mut iov) })?;
        let iov = NonNull::new(iov).ok_or_else(|| errno(DIOS_EPROTO))?;
        Ok(ReadTxn { r, iov })
    }

    pub(crate) fn acquire_timeout(r: &'r Ref, len: u64, timeout: Duration) -> io::Result<ReadTxn<'r>> {
        let mut iov: *mut dios_iovec_t = ptr::null_mut();
        // SAFETY: a held reference, a valid out-pointer.
        cvt(unsafe { dios_acquire_read_timeout(0, r.as_raw(), len, &mut iov, crate::timeout_ns(timeout)) })?;
        let iov = NonNull::new(iov).ok_or_else(|| errno(DIOS_EPROTO))?;
        Ok(ReadTxn { r, iov })
    }

    /// The bytes (also through `Deref`).
    pub fn as_slice(&self) -> &[u8] {
        let (p, n) = iov_slice(self.iov);
        // SAFETY: the buffer is mapped (readable) for n bytes until the
        // release, which needs `self` by value or its drop: the slice
        // borrows self and cannot outlive it.
        unsafe { slice::from_raw_parts(p, n) }
    }

    /// Validates what was read and re-arms the buffer (`dios_commit_read`):
    /// `Ok` if no write was committed to the object, or in progress (a write
    /// buffer out, committed or not, until its release), since the acquire
    /// (or the last commit), else `ESTALE`: read again.  Either way the
    /// buffer stays usable.  (A FIFO's bytes are never overwritten before
    /// release: `Ok`.)
    pub fn commit(&mut self) -> io::Result<()> {
        // SAFETY: the reference and the buffer are held.
        cvt(unsafe { dios_commit_read(0, self.r.as_raw(), self.iov.as_ptr()) })
    }

    /// Releases the buffer, reporting the answer (dropping it does the same
    /// and ignores the answer).  For a FIFO this frees the space it held.
    pub fn release(self) -> io::Result<()> {
        let me = ManuallyDrop::new(self);
        // SAFETY: we own the buffer and give it up here.
        cvt(unsafe { dios_release_read(0, me.r.as_raw(), me.iov.as_ptr()) })
    }
}

impl Deref for ReadTxn<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Drop for ReadTxn<'_> {
    fn drop(&mut self) {
        // SAFETY: we own the buffer.
        unsafe { dios_release_read(0, self.r.as_raw(), self.iov.as_ptr()) };
    }
}

impl fmt::Debug for ReadTxn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadTxn").field("ref", self.r).field("len", &self.len()).finish()
    }
}

impl<'r> WriteTxn<'r> {
    pub(crate) fn acquire(r: &'r Ref, flags: dios_flags_t, len: u64) -> io::Result<WriteTxn<'r>> {
        let mut iov: *mut dios_iovec_t = ptr::null_mut();
        // SAFETY: a held reference, a valid out-pointer.
        cvt(unsafe { dios_acquire_write(flags, r.as_raw(), len, &mut iov) })?;
        let iov = NonNull::new(iov).ok_or_else(|| errno(DIOS_EPROTO))?;
        Ok(WriteTxn { r, iov })
    }

    pub(crate) fn acquire_timeout(r: &'r Ref, len: u64, timeout: Duration) -> io::Result<WriteTxn<'r>> {
        let mut iov: *mut dios_iovec_t = ptr::null_mut();
        // SAFETY: a held reference, a valid out-pointer.
        cvt(unsafe { dios_acquire_write_timeout(0, r.as_raw(), len, &mut iov, crate::timeout_ns(timeout)) })?;
        let iov = NonNull::new(iov).ok_or_else(|| errno(DIOS_EPROTO))?;
        Ok(WriteTxn { r, iov })
    }

    /// The bytes (also through `Deref`).
    pub fn as_slice(&self) -> &[u8] {
        let (p, n) = iov_slice(self.iov);
        // SAFETY: as ReadTxn::as_slice; the mapping is writable.
        unsafe { slice::from_raw_parts(p, n) }
    }

    /// The bytes, to fill (also through `DerefMut`).
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        let (p, n) = iov_slice(self.iov);
        // SAFETY: as above, and &mut self makes this the only slice of the
        // buffer in this transaction.
        unsafe { slice::from_raw_parts_mut(p, n) }
    }

    /// The aligned 8-byte word at byte `offset` of the buffer as an
    /// `AtomicU64`, for compare-and-swap and fetch-add shared with every task
    /// that maps the object (the mapping is `MAP_SHARED`).  `EINVAL` if
    /// `offset` is not a multiple of 8 or the word does not fit.  Atomic
    /// operations need no commit to be seen by other mappers; a blob's bytes
    /// are durable only once committed.
    pub fn atomic_u64(&self, offset: usize) -> io::Result<&AtomicU64> {
        let (p, n) = iov_slice(self.iov);
        if offset % 8 != 0 || n < 8 || offset > n - 8 {
            return Err(errno(DIOS_EINVAL));
        }
        // SAFETY: the word lies inside the buffer (checked), which is mapped
        // writable and page-aligned (so the word is 8-aligned) until the
        // release, which needs self: the reference borrows self.  Other
        // tasks store into it only through atomics or plain stores of the
        // same memory, which AtomicU64 (a plain u64 in memory) tolerates.
        Ok(unsafe { AtomicU64::from_ptr(p.add(offset) as *mut u64) })
    }

    /// Publishes the first `len` bytes (`dios_commit_write`; `EINVAL` past
    /// the buffer).  Memory objects and blobs: the buffer stays usable for
    /// more commits (a blob grows to `len` if it was smaller).  A FIFO
    /// buffer is committed once: use [`commit_and_release`](Self::commit_and_release).
    pub fn commit(&mut self, len: usize) -> io::Result<()> {
        // SAFETY: the reference and the buffer are held.
        cvt(unsafe { dios_commit_write(0, self.r.as_raw(), len as u64, self.iov.as_ptr()) })
    }

    /// Commits the first `len` bytes and releases the buffer: the whole of
    /// a FIFO write.  The buffer is released even when the commit fails (the
    /// commit's error is reported).
    pub fn commit_and_release(mut self, len: usize) -> io::Result<()> {
        let c = self.commit(len);
        let r = self.release();
        c.and(r)
    }

    /// Releases the buffer (nothing more is published), reporting the answer.
    pub fn release(self) -> io::Result<()> {
        let me = ManuallyDrop::new(self);
        // SAFETY: we own the buffer and give it up here.
        cvt(unsafe { dios_release_write(0, me.r.as_raw(), me.iov.as_ptr()) })
    }
}

impl Deref for WriteTxn<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl DerefMut for WriteTxn<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.as_mut_slice()
    }
}

impl Drop for WriteTxn<'_> {
    fn drop(&mut self) {
        // SAFETY: we own the buffer.
        unsafe { dios_release_write(0, self.r.as_raw(), self.iov.as_ptr()) };
    }
}

impl fmt::Debug for WriteTxn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteTxn").field("ref", self.r).field("len", &self.len()).finish()
    }
}
