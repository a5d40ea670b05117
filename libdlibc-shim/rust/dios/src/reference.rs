//! References: the handle a task holds on an object, released on drop.

use std::fmt;
use std::io;
use std::mem::ManuallyDrop;
use std::os::raw::c_void;
use std::ptr::{self, NonNull};

use dios_sys::*;

use crate::error::{cvt, errno};
use crate::name::Name;

/// The type of an object (`D_OBJ_*`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ObjectType {
    /// `D_OBJ_PRIVMEM`: memory only its creator may hold.
    PrivateMemory,
    /// `D_OBJ_SHMEM`: shared memory, random access.
    SharedMemory,
    /// `D_OBJ_FIFO`: a byte stream from one writer end to one reader end.
    Fifo,
    /// `D_OBJ_BLOB`: a durable byte object (a file the task maps).
    Blob,
    /// `D_OBJ_CONSOLE`: the console.
    Console,
    /// `D_OBJ_TASK`: a running (or ended) task.
    Task,
    /// `D_OBJ_GROUP`: a name-visibility domain.
    Group,
    /// `D_OBJ_EXE`: an executable program file.
    Exe,
    /// A type this crate does not know (a newer daemon).
    Other(u32),
}

impl ObjectType {
    /// From the C value.
    pub fn from_raw(t: dios_object_type_t) -> ObjectType {
        match t {
            D_OBJ_PRIVMEM => ObjectType::PrivateMemory,
            D_OBJ_SHMEM => ObjectType::SharedMemory,
            D_OBJ_FIFO => ObjectType::Fifo,
            D_OBJ_BLOB => ObjectType::Blob,
            D_OBJ_CONSOLE => ObjectType::Console,
            D_OBJ_TASK => ObjectType::Task,
            D_OBJ_GROUP => ObjectType::Group,
            D_OBJ_EXE => ObjectType::Exe,
            t => ObjectType::Other(t),
        }
    }

    /// The C value.
    pub fn to_raw(self) -> dios_object_type_t {
        match self {
            ObjectType::PrivateMemory => D_OBJ_PRIVMEM,
            ObjectType::SharedMemory => D_OBJ_SHMEM,
            ObjectType::Fifo => D_OBJ_FIFO,
            ObjectType::Blob => D_OBJ_BLOB,
            ObjectType::Console => D_OBJ_CONSOLE,
            ObjectType::Task => D_OBJ_TASK,
            ObjectType::Group => D_OBJ_GROUP,
            ObjectType::Exe => D_OBJ_EXE,
            ObjectType::Other(t) => t,
        }
    }
}

/// What `dios_ref_info` reports about a reference.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RefInfo {
    /// The object's type.
    pub object_type: ObjectType,
    /// `D_PERM_*` bits the reference carries.
    pub perms: u32,
    /// `D_REF_STATE_*` bits.
    pub state: u32,
    /// Bytes of a memory object, a blob's committed size, a task's pid; else 0.
    pub size: u64,
    /// The daemon's number for the object (diagnostics; equal for two
    /// references to the same object).
    pub object_id: u64,
}

impl RefInfo {
    /// May read (`D_PERM_READ`).
    pub fn can_read(&self) -> bool {
        self.perms & D_PERM_READ != 0
    }
    /// May write (`D_PERM_WRITE`).
    pub fn can_write(&self) -> bool {
        self.perms & D_PERM_WRITE != 0
    }
    /// May zombify the object (`D_PERM_DELETE`).
    pub fn can_delete(&self) -> bool {
        self.perms & D_PERM_DELETE != 0
    }
    /// The object is bound in the name table.
    pub fn is_named(&self) -> bool {
        self.state & D_REF_STATE_NAMED != 0
    }
    /// The object was zombified: every operation but release gives `EIDRM`.
    pub fn is_zombie(&self) -> bool {
        self.state & D_REF_STATE_ZOMBIE != 0
    }
}

/// How a created object is named.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Naming {
    /// No name: never in the name table, cheapest; other tasks get a
    /// reference only by delegation.
    Anonymous,
    /// A fresh random 256-bit name (read it with [`Ref::name`]).
    Random,
    /// This name (`D_CREATE_NAME_GIVEN`); `EEXIST` if it is bound.
    Given(Name),
}

/// A reference to a DIOS object, held by this task.
///
/// Dropping it releases it (`dios_delete`); the object goes with its last
/// reference (a named blob excepted: only zombifying deletes it).  A
/// reference means nothing in another task: hand one over with
/// [`Task::delegate`](crate::Task::delegate) or in a spawn.
///
/// **Not `Clone`.**  A second reference costs a call to the daemon and can
/// fail, so it is [`try_clone`](Ref::try_clone), and it works only for
/// named objects: it looks the name up again.  An anonymous object has no
/// way to a second reference in the same task (`dios_copy` delegates to
/// *another* task, and a task's own task reference is read-only), so
/// `try_clone` refuses it.  Share a `&Ref` (or an `Arc`) within a task
/// instead: `Ref` is `Send + Sync`, and the shim is thread-safe.
pub struct Ref {
    raw: NonNull<dios_ref_t>,
    name: Option<Name>,
}

// SAFETY: a reference is a task-wide handle (an id in the pointer's bits,
// never dereferenced); every libdlibc call on it is thread-safe.
unsafe impl Send for Ref {}
// SAFETY: as above: &Ref only passes the handle to thread-safe calls.
unsafe impl Sync for Ref {}

impl Ref {
    /// Wraps a raw reference this task holds; it is released when the
    /// `Ref` drops.  `name`: the object's name if known (for `try_clone`).
    ///
    /// # Safety
    /// `raw` must be a reference this task holds and that nothing else will
    /// release (the `Ref` owns it).
    ///
    /// # Panics
    /// If `raw` is null.
    pub unsafe fn from_raw(raw: *mut dios_ref_t, name: Option<Name>) -> Ref {
        Ref { raw: NonNull::new(raw).expect("dios: null reference"), name }
    }

    /// A reference the shim just returned from a successful call.
    pub(crate) fn from_call(raw: *mut dios_ref_t, name: Option<Name>) -> io::Result<Ref> {
        match NonNull::new(raw) {
            Some(raw) => Ok(Ref { raw, name }),
            None => Err(errno(DIOS_EPROTO)),
        }
    }

    /// The raw handle, still owned by this `Ref`.
    pub fn as_raw(&self) -> *mut dios_ref_t {
        self.raw.as_ptr()
    }

    /// Gives up ownership: the caller must release the handle.
    pub fn into_raw(self) -> *mut dios_ref_t {
        ManuallyDrop::new(self).raw.as_ptr()
    }

    /// The object's name, when this reference came from a named create or a
    /// lookup.
    pub fn name(&self) -> Option<&Name> {
        self.name.as_ref()
    }

    /// Looks a name up: a reference with the permissions the name gives
    /// (read and write; no delete, except for durable blobs).
    /// `ENOENT` if nothing is bound to it in this task's groups.
    pub fn lookup(name: &Name) -> io::Result<Ref> {
        lookup(name, 0)
    }

    /// Looks a name up for a read-only reference (`D_LOOKUP_READONLY`).
    pub fn lookup_readonly(name: &Name) -> io::Result<Ref> {
        lookup(name, D_LOOKUP_READONLY)
    }

    /// Type, permissions, state and size (`dios_ref_info`).
    pub fn info(&self) -> io::Result<RefInfo> {
        let mut i = dios_ref_info_t::default();
        // SAFETY: a held reference, a valid out-pointer.
        cvt(unsafe { dios_ref_info(self.as_raw(), &mut i) })?;
        Ok(RefInfo {
            object_type: ObjectType::from_raw(i.type_),
            perms: i.perms,
            state: i.state,
            size: i.size,
            object_id: i.object_id,
        })
    }

    /// The object's type.
    pub fn object_type(&self) -> io::Result<ObjectType> {
        Ok(self.info()?.object_type)
    }

    /// A second reference to the same named object, by looking its name up
    /// again (read-only if this one cannot write).  Unlike the creator's
    /// reference, a looked-up one does not carry the right to zombify.
    /// Refused for an anonymous object (see the type's documentation), and
    /// `ENOENT` if the name has since been unbound or bound to another object.
    pub fn try_clone(&self) -> io::Result<Ref> {
        let name = self.name.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::Unsupported,
                "dios: an anonymous object has no second reference in the same task (delegate it to another task instead)",
            )
        })?;
        let me = self.info()?;
        let other = if me.can_write() { Ref::lookup(&name)? } else { Ref::lookup_readonly(&name)? };
        if other.info()?.object_id != me.object_id {
            return Err(errno(DIOS_ENOENT));
        }
        Ok(other)
    }

    /// Releases the reference, reporting the daemon's answer (dropping it
    /// does the same and ignores the answer).
    pub fn delete(self) -> io::Result<()> {
        let raw = self.into_raw();
        // SAFETY: we owned raw and give it up here.
        cvt(unsafe { dios_delete(0, raw) })
    }

    /// Kills the object for every holder (`D_DELETE_ZOMBIFY`; needs the
    /// delete permission, which only the creator's reference carries): their
    /// later operations fail with `EIDRM`, and its name is unbound at once.
    /// The reference is released either way: when zombifying is refused
    /// (`EACCES`), it is released as by [`delete`](Ref::delete).
    pub fn delete_zombify(self) -> io::Result<()> {
        let raw = self.into_raw();
        // SAFETY: we own raw; on success the call released it.
        let rc = unsafe { dios_delete(D_DELETE_ZOMBIFY, raw) };
        if rc != 0 {
            // SAFETY: the failed call left the reference held: release it.
            unsafe { dios_delete(0, raw) };
        }
        cvt(rc)
    }

    /// This reference as the typed object `T` if the object is of its type,
    /// else the reference back.
    pub fn downcast<T: Object>(self) -> Result<T, Ref> {
        match self.object_type() {
            Ok(t) if T::accepts(t) => Ok(T::wrap(self)),
            _ => Err(self),
        }
    }
}

impl Drop for Ref {
    fn drop(&mut self) {
        // SAFETY: we own the reference.  An error (the daemon gone) leaves
        // nothing to do.
        unsafe { dios_delete(0, self.raw.as_ptr()) };
    }
}

impl fmt::Debug for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Ref");
        d.field("raw", &self.raw.as_ptr());
        if let Some(n) = &self.name {
            d.field("name", n);
        }
        d.finish()
    }
}

impl AsRef<Ref> for Ref {
    fn as_ref(&self) -> &Ref {
        self
    }
}

fn lookup(name: &Name, flags: dios_flags_t) -> io::Result<Ref> {
    let mut r: *mut dios_ref_t = ptr::null_mut();
    let mut count: u64 = 1;
    // SAFETY: valid pointers; capacity 1.
    cvt(unsafe { dios_lookup(flags, name.as_raw(), &mut r, &mut count) })?;
    if count != 1 {
        return Err(errno(DIOS_ENOENT));
    }
    Ref::from_call(r, Some(*name))
}

/// `dios_create` / `dios_create_in` of `ty` with the optional 64-bit argument
/// (a size or capacity).
pub(crate) fn create(
    ty: dios_object_type_t,
    arg: Option<u64>,
    naming: Naming,
    group: Option<&Ref>,
) -> io::Result<Ref> {
    let mut name = dios_name_t::default();
    let mut flags: dios_flags_t = 0;
    let name_ptr: *mut dios_name_t = match naming {
        Naming::Anonymous => ptr::null_mut(),
        Naming::Random => &mut name,
        Naming::Given(n) => {
            name = n.0;
            flags |= D_CREATE_NAME_GIVEN;
            &mut name
        }
    };
    let argv: u64 = arg.unwrap_or(0);
    let arg_ptr: *const c_void = if arg.is_some() { &argv as *const u64 as *const c_void } else { ptr::null() };
    let mut out: *mut dios_ref_t = ptr::null_mut();
    // SAFETY: every pointer is valid for the call (or null where allowed).
    let rc = unsafe {
        match group {
            None => dios_create(flags, ty, arg_ptr, name_ptr, &mut out, 0),
            Some(g) => dios_create_in(flags, ty, arg_ptr, name_ptr, &mut out, g.as_raw()),
        }
    };
    cvt(rc)?;
    let named = if name_ptr.is_null() { None } else { Some(Name(name)) };
    Ref::from_call(out, named)
}

mod sealed {
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// A typed object: a [`Ref`] known to be of one object type.  Every typed
/// object dereferences to its `Ref` (`info`, `name`, ...).
pub trait Object: Sized + Sealed {
    /// Whether an object of type `t` can be this Rust type.
    fn accepts(t: ObjectType) -> bool;
    #[doc(hidden)]
    fn wrap(r: Ref) -> Self;
    /// The reference.
    fn as_dios_ref(&self) -> &Ref;
    /// The reference, giving up the type.
    fn into_ref(self) -> Ref;

    /// Looks a name up (read and write); an error if the name is bound to
    /// another type of object.
    fn lookup(name: &Name) -> io::Result<Self> {
        typed(Ref::lookup(name)?)
    }

    /// Looks a name up for a read-only reference.
    fn lookup_readonly(name: &Name) -> io::Result<Self> {
        typed(Ref::lookup_readonly(name)?)
    }

    /// A typed object from a reference (for instance one of
    /// [`delegated`](crate::delegated)); an error if it is another type.
    fn from_ref(r: Ref) -> io::Result<Self> {
        typed(r)
    }
}

/// `r` as `T` after one `dios_ref_info`, or an error naming both types.
pub(crate) fn typed<T: Object>(r: Ref) -> io::Result<T> {
    let t = r.object_type()?;
    if T::accepts(t) {
        return Ok(T::wrap(r));
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("dios: the reference is to a {t:?} object, not a {}", std::any::type_name::<T>()),
    ))
}
