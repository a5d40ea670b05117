//! Calls that need no daemon: every symbol links, names agree with abi_dump's
//! `name.*` lines (computed by the C shim), text form round-trips, strerror.

mod common;

use std::ffi::{CStr, CString};
use std::os::raw::c_char;

use dios_sys::*;

/// Every function of dios.h resolves against libdlibc.so (a missing or
/// misspelt symbol fails the link of this test binary).
#[test]
fn every_function_links() {
    let fns: &[(&str, *const ())] = &[
        ("dios_create", dios_create as *const ()),
        ("dios_name_from_string", dios_name_from_string as *const ()),
        ("dios_lookup", dios_lookup as *const ()),
        ("dios_copy", dios_copy as *const ()),
        ("dios_delete", dios_delete as *const ()),
        ("dios_run", dios_run as *const ()),
        ("dios_select", dios_select as *const ()),
        ("dios_acquire_read", dios_acquire_read as *const ()),
        ("dios_commit_read", dios_commit_read as *const ()),
        ("dios_release_read", dios_release_read as *const ()),
        ("dios_acquire_write", dios_acquire_write as *const ()),
        ("dios_commit_write", dios_commit_write as *const ()),
        ("dios_release_write", dios_release_write as *const ()),
        ("dios_nametostr", dios_nametostr as *const ()),
        ("dios_strtoname", dios_strtoname as *const ()),
        ("dios_self", dios_self as *const ()),
        ("dios_self_exe", dios_self_exe as *const ()),
        ("dios_pickref", dios_pickref as *const ()),
        ("dios_ref_info", dios_ref_info as *const ()),
        ("dios_nop", dios_nop as *const ()),
        ("dios_daemon_stats", dios_daemon_stats as *const ()),
        ("dios_heap_stats", dios_heap_stats as *const ()),
        ("dios_strerror", dios_strerror as *const ()),
        ("dios_batch", dios_batch as *const ()),
        ("dios_select_timeout", dios_select_timeout as *const ()),
        ("dios_acquire_read_timeout", dios_acquire_read_timeout as *const ()),
        ("dios_acquire_write_timeout", dios_acquire_write_timeout as *const ()),
        ("dios_wait_timeout", dios_wait_timeout as *const ()),
    ];
    assert_eq!(fns.len(), 28);
    for (n, p) in fns {
        assert!(!p.is_null(), "{n}");
    }
}

fn name_of(s: &str) -> dios_name_t {
    let c = CString::new(s).unwrap();
    let mut n = dios_name_t::default();
    assert_eq!(unsafe { dios_name_from_string(c.as_ptr(), &mut n) }, 0);
    n
}

fn text_of(n: &dios_name_t) -> String {
    let mut buf = [0 as c_char; DIOS_NAME_STRLEN];
    let p = unsafe { dios_nametostr(n, buf.as_mut_ptr()) };
    assert_eq!(p, buf.as_mut_ptr());
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string()
}

#[test]
fn names_match_abi_dump() {
    let facts = common::abi_dump();
    let labels: Vec<&str> = facts
        .keys()
        .filter_map(|k| k.strip_prefix("name.")?.strip_suffix(".input"))
        .collect();
    assert!(!labels.is_empty());
    for label in labels {
        let input = &facts[&format!("name.{label}.input")];
        let n = name_of(input);
        let hex: String = n.raw.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, facts[&format!("name.{label}.hex")], "hex of {input:?}");
        let text = text_of(&n);
        assert_eq!(text.len(), DIOS_NAME_STRLEN - 1);
        assert_eq!(text, facts[&format!("name.{label}")], "text of {input:?}");
        let mut back = dios_name_t::default();
        let t = CString::new(text).unwrap();
        assert_eq!(unsafe { dios_strtoname(t.as_ptr(), &mut back) }, 0);
        assert_eq!(back, n);
    }
    let bad = CString::new("too short").unwrap();
    let mut out = dios_name_t::default();
    assert_eq!(unsafe { dios_strtoname(bad.as_ptr(), &mut out) }, -DIOS_EINVAL);
    assert_eq!(unsafe { dios_name_from_string(std::ptr::null(), &mut out) }, -DIOS_EINVAL);
}

#[test]
fn strerror_texts() {
    let s = |e| unsafe { CStr::from_ptr(dios_strerror(e)) }.to_str().unwrap();
    assert_eq!(s(0), "success");
    assert_eq!(s(-DIOS_EINVAL), "invalid argument");
    assert_eq!(s(-DIOS_ENOTCONN), "daemon not reachable");
    assert_eq!(s(-DIOS_ESTALE), "data read was overwritten meanwhile");
    assert_eq!(s(-DIOS_ETIMEDOUT), "timed out (the call's deadline passed)");
    assert_eq!(s(i32::MIN), "unknown error");
}

/// Without DIOS_HEAP (and not Pure DIOS) libdlibc's malloc passes every call
/// to glibc: Rust's allocations work and the DIOS heap holds nothing.
#[test]
fn heap_is_glibcs_by_default() {
    if std::env::var_os(DIOS_ENV_HEAP).is_some() || std::env::var_os("DIOS_PURE").is_some() {
        return; // the heap was chosen otherwise before main
    }
    let v: Vec<String> = (0..10_000).map(|i| format!("block {i}")).collect();
    assert_eq!(v[9_999], "block 9999");
    let mut s = dios_heap_stats_t::default();
    assert_eq!(unsafe { dios_heap_stats(&mut s) }, 0);
    assert_eq!(s.mode, 1, "DIOS_HEAP_MODE_LIBC");
    assert_eq!(s.locked, 0);
    assert_eq!((s.objects, s.bytes_held, s.daemon_calls), (0, 0, 0));
    assert_eq!(unsafe { dios_heap_stats(std::ptr::null_mut()) }, -22, "-EINVAL");
}
