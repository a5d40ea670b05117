//! With no daemon at $DIOS_SOCKET, calls fail at once with -ENOTCONN
//! (alone in its own test binary: it sets the environment before the shim's
//! first connection attempt).

use std::time::{Duration, Instant};

use dios_sys::*;

#[test]
fn calls_fail_fast_without_daemon() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::env::set_var(DIOS_ENV_SOCKET, dir.join("no-such-daemon.sock"));
    let t = Instant::now();
    assert_eq!(unsafe { dios_nop(0) }, -DIOS_ENOTCONN);
    let mut st = dios_daemon_stats_t::default();
    assert_eq!(unsafe { dios_daemon_stats(&mut st) }, -DIOS_ENOTCONN);
    assert!(unsafe { dios_self() }.is_null());
    assert!(t.elapsed() < Duration::from_secs(5), "took {:?}", t.elapsed());
    // the detail names the socket tried, and so does dios_reconnect's
    let sock = dir.join("no-such-daemon.sock").display().to_string();
    let detail = || unsafe { std::ffi::CStr::from_ptr(dios_last_error_detail()) }.to_string_lossy().into_owned();
    assert_eq!(unsafe { dios_nop(0) }, -DIOS_ENOTCONN);
    assert!(detail().contains(&sock), "{}", detail());
    assert!(detail().contains("not reachable"), "{}", detail());
    assert_eq!(unsafe { dios_reconnect() }, -DIOS_ENOTCONN);
    assert!(detail().contains(&sock), "{}", detail());
}
