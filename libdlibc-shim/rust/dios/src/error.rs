//! DIOS return codes as `std::io::Error`, with the errno kept.

use std::io;
use std::os::raw::c_int;

use dios_sys::DIOS_EPROTO;

/// 0 is `Ok`; a negative errno is an `io::Error` whose `raw_os_error()` is
/// that errno (so `ErrorKind` and the text are the OS's).  A positive value
/// is not a documented DIOS answer: `EPROTO`.
pub(crate) fn cvt(rc: c_int) -> io::Result<()> {
    match rc {
        0 => Ok(()),
        r if r < 0 => Err(io::Error::from_raw_os_error(-r)),
        _ => Err(io::Error::from_raw_os_error(DIOS_EPROTO)),
    }
}

/// An `io::Error` carrying a positive errno (`DIOS_E*`).
pub(crate) fn errno(e: c_int) -> io::Error {
    io::Error::from_raw_os_error(e)
}

/// Is `e` the errno `code`?
pub(crate) fn is(e: &io::Error, code: c_int) -> bool {
    e.raw_os_error() == Some(code)
}
