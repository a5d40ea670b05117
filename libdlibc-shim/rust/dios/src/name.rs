//! 256-bit names and their 43-character text form.

use std::ffi::{CStr, CString};
use std::fmt;
use std::io;
use std::os::raw::c_char;
use std::str::FromStr;

use dios_sys::{
    dios_name_from_string, dios_name_t, dios_nametostr, dios_strtoname, DIOS_CONSOLE_NAME_STRING, DIOS_EINVAL,
    DIOS_NAME_BYTES, DIOS_NAME_STRLEN,
};

use crate::error::{cvt, errno};

/// A DIOS name: 256 bits, global and unforgeable when random.
///
/// `Display` and `FromStr` use the 43-character URL-safe base64 text form
/// of the C shim (`dios_nametostr` / `dios_strtoname`); `Debug` shows it too.
///
/// ```
/// let n = dios::Name::from_string("demo/greeting").unwrap();   // SHA-256 of the string
/// let text = n.to_string();
/// assert_eq!(text.len(), 43);
/// assert_eq!(text.parse::<dios::Name>().unwrap(), n);
/// assert_eq!("not a name".parse::<dios::Name>().unwrap_err().raw_os_error(),
///            Some(dios::sys::DIOS_EINVAL));
/// ```
#[derive(Copy, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct Name(pub(crate) dios_name_t);

impl Name {
    /// The name with these 32 bytes.
    pub const fn from_bytes(raw: [u8; DIOS_NAME_BYTES]) -> Name {
        Name(dios_name_t { raw })
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; DIOS_NAME_BYTES] {
        &self.0.raw
    }

    /// The deterministic name of a string: SHA-256 of its bytes
    /// (`dios_name_from_string`).  Every task computes the same name from
    /// the same string, which is how unrelated tasks meet.  `EINVAL` for a
    /// string with a NUL byte (the C API takes a C string).
    pub fn from_string(s: &str) -> io::Result<Name> {
        let c = CString::new(s).map_err(|_| errno(DIOS_EINVAL))?;
        let mut n = dios_name_t::default();
        // SAFETY: c is NUL-terminated and outlives the call; n is a valid out-pointer.
        cvt(unsafe { dios_name_from_string(c.as_ptr(), &mut n) })?;
        Ok(Name(n))
    }

    /// The console's well-known name (`DIOS_CONSOLE_NAME_STRING`).
    pub fn console() -> Name {
        Name::from_string(DIOS_CONSOLE_NAME_STRING).expect("the console's name string has no NUL")
    }

    /// The C representation.
    pub fn as_raw(&self) -> &dios_name_t {
        &self.0
    }
}

impl From<[u8; DIOS_NAME_BYTES]> for Name {
    fn from(raw: [u8; DIOS_NAME_BYTES]) -> Name {
        Name::from_bytes(raw)
    }
}

impl From<dios_name_t> for Name {
    fn from(n: dios_name_t) -> Name {
        Name(n)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0 as c_char; DIOS_NAME_STRLEN];
        // SAFETY: buf holds DIOS_NAME_STRLEN bytes, as dios_nametostr needs;
        // it writes a NUL-terminated string there and returns buf.
        let p = unsafe { dios_nametostr(&self.0, buf.as_mut_ptr()) };
        if p.is_null() {
            return Err(fmt::Error);
        }
        // SAFETY: p == buf, NUL-terminated within the array.
        let s = unsafe { CStr::from_ptr(p) };
        f.pad(s.to_str().map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

impl FromStr for Name {
    type Err = io::Error;

    /// Parses the 43-character text form; anything else is `EINVAL`.
    fn from_str(s: &str) -> io::Result<Name> {
        let c = CString::new(s).map_err(|_| errno(DIOS_EINVAL))?;
        let mut n = dios_name_t::default();
        // SAFETY: c is NUL-terminated; n is a valid out-pointer.
        cvt(unsafe { dios_strtoname(c.as_ptr(), &mut n) })?;
        Ok(Name(n))
    }
}
