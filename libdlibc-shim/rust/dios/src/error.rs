//! DIOS return codes as `std::io::Error`, with the errno kept.

use std::error::Error;
use std::ffi::CStr;
use std::fmt;
use std::io;
use std::os::raw::c_int;

use dios_sys::{dios_last_error_detail, DIOS_ENOMEM, DIOS_ENOTCONN, DIOS_EPROTO};

/// 0 is `Ok`; a negative errno is an `io::Error` whose `raw_os_error()` is
/// that errno (so `ErrorKind` and the text are the OS's), except `-ENOTCONN`
/// and `-ENOMEM`, which carry what the shim says about them ([`Detailed`]).
/// A positive value is not a documented DIOS answer: `EPROTO`.
pub(crate) fn cvt(rc: c_int) -> io::Result<()> {
    match rc {
        0 => Ok(()),
        r if r == -DIOS_ENOTCONN || r == -DIOS_ENOMEM => Err(detailed(-r)),
        r if r < 0 => Err(io::Error::from_raw_os_error(-r)),
        _ => Err(io::Error::from_raw_os_error(DIOS_EPROTO)),
    }
}

/// The error of the call that just failed with errno `e` on this thread, with the shim's detail.
pub(crate) fn detailed(e: c_int) -> io::Error {
    // SAFETY: never NULL, NUL-terminated, valid until this thread's next DIOS call.
    let detail = unsafe { CStr::from_ptr(dios_last_error_detail()) }.to_string_lossy().into_owned();
    let kind = io::Error::from_raw_os_error(e).kind();
    io::Error::new(kind, Detailed { errno: e, detail })
}

/// An `io::Error` carrying a positive errno (`DIOS_E*`).
pub(crate) fn errno(e: c_int) -> io::Error {
    io::Error::from_raw_os_error(e)
}

/// Is `e` the errno `code`?
pub(crate) fn is(e: &io::Error, code: c_int) -> bool {
    errno_of(e) == Some(code)
}

/// What a DIOS call's `-ENOTCONN` or `-ENOMEM` said (the `io::Error`'s inner
/// error): the errno and `dios_last_error_detail()`'s sentence, which names
/// the daemon's socket, or the per-task limit reached with its value and the
/// diosd flag that raises it.  Shown as the OS's text, `(os error N)`, then
/// the detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detailed {
    /// The positive errno (`DIOS_ENOTCONN`, `DIOS_ENOMEM`).
    pub errno: c_int,
    /// The shim's sentence about it.
    pub detail: String,
}

impl fmt::Display for Detailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", io::Error::from_raw_os_error(self.errno), self.detail)
    }
}

impl Error for Detailed {}

/// The errno of an error a DIOS call returned: `raw_os_error()`, the
/// [`Detailed`] one's (`ENOTCONN`, `ENOMEM`), or `ENOEXEC` for a
/// [`NotBranded`](crate::NotBranded) one.  `None` for other errors.
pub fn errno_of(e: &io::Error) -> Option<c_int> {
    e.raw_os_error().or_else(|| {
        let inner = e.get_ref()?;
        if let Some(d) = inner.downcast_ref::<Detailed>() {
            return Some(d.errno);
        }
        inner.downcast_ref::<crate::NotBranded>().map(|_| dios_sys::DIOS_ENOEXEC)
    })
}
