//! Tasks running Rust functions, and the channels between them (seed
//! section 3.3 and 3.4).
//!
//! A task is a copy of the running program (`dios_run` of
//! `dios_pickref(dios_self_exe())`) that starts at an *entry function*
//! instead of `main`.  The entry is never named by its code address: the
//! program lists its entry functions once, in [`entries!`](crate::entries),
//! and a child is told the *index* of its entry in that list, which it checks
//! before calling anything (the seed's own security note, section 3.3.3: an
//! address from a spawner would let it jump anywhere in the program).
//!
//! How the child gets there: `entries!` puts a constructor in the
//! program's `.init_array`, which the loader runs before `main` (after the
//! libraries', libdlibc's included).  In every process it registers the list;
//! in a task started as `PROGRAM --dios-entry INDEX NAME` it installs the
//! console panic hook, takes the channel's two FIFOs from the references its
//! parent delegated, calls the entry, and exits with status 0 when the entry
//! returns (101 if it panicked) without ever running `main`.  So the program's
//! `main` stays as in the seed's listings.  An index outside the list, or a
//! name that does not match it, is refused with a panic (on the console) and
//! a non-zero exit.

use std::ffi::{CStr, OsStr, OsString};
use std::io;
use std::os::raw::{c_char, c_int};
use std::os::unix::ffi::OsStringExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitStatus;
use std::sync::{Arc, Mutex, OnceLock};

use dios_sys::DIOS_FIFO_DEFAULT_CAPACITY;

use crate::objects::{EnvSpec, Exe, Fifo, Task};
use crate::reference::{Object, Ref};
use crate::wire::{Decoder, Encode, Wire};

/// The argument that starts a task at an entry function: `--dios-entry INDEX NAME`.
pub const ENTRY_ARG: &str = "--dios-entry";

/// A bidirectional channel between a task and the task that spawned it: two
/// FIFOs, one each way (seed figure 3.5).
///
/// `send` and `recv` move values of any [`Wire`] type (integers, `bool`,
/// strings, byte vectors, arrays, tuples, options...), `send_bytes` and
/// `recv_exact` raw bytes.  Both block as the FIFOs do.  When the other task
/// is gone and everything it sent has been received, `recv` fails with the
/// errno `EPIPE`; so does `send` once it can no longer read.
///
/// The spawner's channel also holds the child's task reference:
/// [`wait`](Channel::wait) collects its exit status.  Dropping a channel
/// releases its FIFOs (the other side then sees the end of the stream) and
/// does not stop the task.
#[derive(Debug)]
pub struct Channel {
    tx: Fifo,
    rx: Fifo,
    task: Option<Task>,
}

impl Channel {
    /// Sends a value (`send(n - 2)`, `send(&bytes[..])`, `send((a, b))`).
    pub fn send<T: Encode>(&self, v: T) -> io::Result<()> {
        let mut buf = Vec::with_capacity(16);
        v.encode(&mut buf);
        self.tx.write_all_bytes(&buf)
    }

    /// Receives a value of type `T`.
    pub fn recv<T: Wire>(&self) -> io::Result<T> {
        T::decode(&mut Decoder::fifo(&self.rx))
    }

    /// Sends raw bytes, without a length: the receiver must know how many.
    pub fn send_bytes(&self, b: &[u8]) -> io::Result<()> {
        self.tx.write_all_bytes(b)
    }

    /// Receives exactly `buf.len()` raw bytes.
    pub fn recv_exact(&self, buf: &mut [u8]) -> io::Result<()> {
        self.rx.read_exact_bytes(buf)
    }

    /// The FIFO this side writes (`Write`, transactions).
    pub fn sender(&self) -> &Fifo {
        &self.tx
    }

    /// The FIFO this side reads (`Read`, transactions, `select`).
    pub fn receiver(&self) -> &Fifo {
        &self.rx
    }

    /// The task at the other end, on the spawner's side (`None` in the task
    /// itself).
    pub fn task(&self) -> Option<&Task> {
        self.task.as_ref()
    }

    /// Waits for the task at the other end to exit and returns its status
    /// (on the spawner's side; an error in the task itself).
    pub fn wait(&self) -> io::Result<ExitStatus> {
        match &self.task {
            Some(t) => t.wait(),
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "dios: this side of the channel is the spawned task's: it has no task to wait for",
            )),
        }
    }

    /// The parts: (sending FIFO, receiving FIFO, task).
    pub fn into_parts(self) -> (Fifo, Fifo, Option<Task>) {
        (self.tx, self.rx, self.task)
    }
}

/// Runs `f` in a new task, a copy of this program, and returns this side of
/// the channel to it; the task gets the other side as `f`'s argument (seed
/// listing 3.5).  `f` must be listed in [`entries!`](crate::entries).
///
/// ```no_run
/// fn double(chan: dios::Channel) {
///     let n: u64 = chan.recv().unwrap();
///     chan.send(2 * n).unwrap();
/// }
/// dios::entries!(double);
///
/// fn main() {
///     let c = dios::spawn_task(double).unwrap();
///     c.send(21u64).unwrap();
///     assert_eq!(c.recv::<u64>().unwrap(), 42);
///     assert!(c.wait().unwrap().success());
/// }
/// ```
pub fn spawn_task(f: fn(Channel)) -> io::Result<Channel> {
    TaskBuilder::new(f).spawn()
}

/// A spawn with options: the channel's FIFO capacity, more references
/// delegated to the task (after the channel's two; it takes them with
/// [`delegated`](crate::delegated)), and its environment (this process's
/// unless changed, as with `std::process::Command`).
#[derive(Debug)]
pub struct TaskBuilder<'a> {
    entry: fn(Channel),
    capacity: u64,
    refs: Vec<&'a Ref>,
    env: EnvSpec,
}

impl<'a> TaskBuilder<'a> {
    /// A spawn of `entry` (listed in [`entries!`](crate::entries)).
    pub fn new(entry: fn(Channel)) -> TaskBuilder<'a> {
        TaskBuilder { entry, capacity: DIOS_FIFO_DEFAULT_CAPACITY as u64, refs: Vec::new(), env: EnvSpec::default() }
    }

    /// Capacity of each of the channel's FIFOs (default `DIOS_FIFO_DEFAULT_CAPACITY`).
    pub fn capacity(mut self, bytes: u64) -> Self {
        self.capacity = bytes;
        self
    }

    /// Delegates `r` too.
    pub fn delegate(mut self, r: &'a Ref) -> Self {
        self.refs.push(r);
        self
    }

    /// Sets a variable of the task's environment.
    pub fn env<K: AsRef<OsStr>, V: AsRef<OsStr>>(mut self, k: K, v: V) -> Self {
        self.env.set(k.as_ref(), v.as_ref());
        self
    }

    /// Leaves a variable out of the task's environment.
    pub fn env_remove<K: AsRef<OsStr>>(mut self, k: K) -> Self {
        self.env.remove(k.as_ref());
        self
    }

    /// Starts the task's environment empty ([`env`](TaskBuilder::env) adds to it).
    pub fn env_clear(mut self) -> Self {
        self.env.clear();
        self
    }

    /// Starts the task.
    pub fn spawn(self) -> io::Result<Channel> {
        let table = TABLE.get().copied().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "dios: this program lists no task entry functions: list them in dios::entries!(...)",
            )
        })?;
        let index = table.iter().position(|e| e.f as usize == self.entry as usize).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "dios: spawn_task of a function that is not listed in dios::entries!(...)",
            )
        })?;
        let down = Fifo::with_capacity(self.capacity)?;
        let up = Fifo::with_capacity(self.capacity)?;
        let exe = self_exe()?;
        let argv0 = std::env::args_os().next().unwrap_or_else(|| OsString::from("dios-task"));
        let argv = [argv0, ENTRY_ARG.into(), index.to_string().into(), table[index].name.into()];
        let mut refs: Vec<&Ref> = Vec::with_capacity(2 + self.refs.len());
        refs.push(&down);
        refs.push(&up);
        refs.extend(self.refs.iter().copied());
        let mut cmd = exe.command(&argv[0]);
        cmd.args(&argv[1..]).env_spec(self.env);
        for r in refs {
            cmd.delegate(r);
        }
        let task = cmd.spawn()?;
        Ok(Channel { tx: down, rx: up, task: Some(task) })
    }
}

/// This program's executable object, looked up once per process.
fn self_exe() -> io::Result<Arc<Exe>> {
    static EXE: Mutex<Option<(u32, Arc<Exe>)>> = Mutex::new(None);
    let pid = std::process::id();
    let mut g = EXE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((p, e)) = g.as_ref() {
        if *p == pid {
            return Ok(e.clone());
        }
    }
    // (after a fork the child is a new task: the parent's reference is not its own)
    let e = Arc::new(Exe::current()?);
    *g = Some((pid, e.clone()));
    Ok(e)
}

static TABLE: OnceLock<&'static [__rt::Entry]> = OnceLock::new();

/// The runtime behind [`entries!`](crate::entries); not a public API.
#[doc(hidden)]
pub mod __rt {
    use super::*;

    /// One entry function of the whitelist.
    pub struct Entry {
        /// Its name, as written in `entries!`.
        pub name: &'static str,
        /// The function.
        pub f: fn(Channel),
    }

    /// The signature glibc calls `.init_array` functions with.
    pub type InitFn = extern "C" fn(c_int, *const *const c_char, *const *const c_char);

    /// Registers `table` and, in a task started at an entry, runs it and
    /// exits (never returns then).
    pub fn start(table: &'static [Entry], argc: c_int, argv: *const *const c_char) {
        if TABLE.set(table).is_err() && !std::ptr::eq(*TABLE.get().unwrap(), table) {
            eprintln!("dios: dios::entries! is used more than once in this program: list every entry function in one");
            std::process::abort();
        }
        let args = args_of(argc, argv);
        if args.len() >= 2 && args[1] == ENTRY_ARG {
            run_entry(table, &args);
        }
    }

    fn args_of(argc: c_int, argv: *const *const c_char) -> Vec<String> {
        if argv.is_null() || argc <= 0 {
            // (a libc that does not pass them to constructors)
            return std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
        }
        (0..argc as usize)
            .map(|i| {
                // SAFETY: glibc passes main's argc/argv: argc valid C strings.
                let p = unsafe { *argv.add(i) };
                if p.is_null() {
                    String::new()
                } else {
                    // SAFETY: a NUL-terminated argument string.
                    let b = unsafe { CStr::from_ptr(p) }.to_bytes().to_vec();
                    OsString::from_vec(b).to_string_lossy().into_owned()
                }
            })
            .collect()
    }

    fn run_entry(table: &'static [Entry], args: &[String]) -> ! {
        let what = args.get(2).cloned().unwrap_or_default();
        crate::panic::install_for_task(format!("dios task (entry {what}, pid {})", std::process::id()));
        let ok = catch_unwind(AssertUnwindSafe(|| {
            let index: usize = what.parse().unwrap_or_else(|_| {
                panic!("dios: task entry {what:?} is not an entry index (this program lists {})", table.len())
            });
            let entry = table.get(index).unwrap_or_else(|| {
                panic!("dios: no task entry {index}: this program lists {} in dios::entries!", table.len())
            });
            if let Some(name) = args.get(3) {
                if name != entry.name {
                    panic!("dios: task entry {index} is {}, not {name}", entry.name);
                }
            }
            crate::panic::install_for_task(format!("dios task {} (entry {index}, pid {})", entry.name, std::process::id()));
            let refs = crate::delegated(2).unwrap_or_else(|e| panic!("dios: task entry {}: {e}", entry.name));
            if refs.len() != 2 {
                panic!(
                    "dios: task entry {} got {} delegated references, not its channel's 2 (start it with dios::spawn_task)",
                    entry.name,
                    refs.len()
                );
            }
            // Not type-checked (a daemon call each, on every task's start): a
            // reference that is not a FIFO fails at its first use instead.
            let mut it = refs.into_iter();
            let rx = <Fifo as Object>::wrap(it.next().unwrap());
            let tx = <Fifo as Object>::wrap(it.next().unwrap());
            (entry.f)(Channel { tx, rx, task: None });
        }))
        .is_ok();
        std::process::exit(if ok { 0 } else { 101 })
    }
}

/// Lists the functions this program may start tasks at: the whitelist of
/// entry points (seed section 3.3.3).  Use it once per program, at module
/// level or inside a function (where the entries are visible):
///
/// ```no_run
/// fn fib_task(chan: dios::Channel) { /* ... */ }
/// fn sum(chan: dios::Channel) { /* ... */ }
/// dios::entries!(fib_task, sum);
/// # fn main() {}
/// ```
///
/// Each entry is a `fn(dios::Channel)`.  [`spawn_task`](crate::spawn_task)
/// of any other function is an error, and a task told an index outside the
/// list refuses to start.  The macro adds a constructor to `.init_array`
/// (see the [module documentation](crate::spawn_task) of tasks): a task
/// started at an entry runs it and exits before `main`.
#[macro_export]
macro_rules! entries {
    ($($f:path),* $(,)?) => {
        const _: () = {
            static __DIOS_ENTRIES: &[$crate::__rt::Entry] = &[
                $($crate::__rt::Entry { name: stringify!($f), f: $f },)*
            ];
            extern "C" fn __dios_start(
                argc: ::std::os::raw::c_int,
                argv: *const *const ::std::os::raw::c_char,
                _envp: *const *const ::std::os::raw::c_char,
            ) {
                $crate::__rt::start(__DIOS_ENTRIES, argc, argv)
            }
            #[used]
            #[link_section = ".init_array"]
            static __DIOS_INIT: $crate::__rt::InitFn = __dios_start;
        };
    };
}
