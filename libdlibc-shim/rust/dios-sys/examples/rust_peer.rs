//! rust_peer - the Rust part of the demo workload, over raw dios-sys.
//!
//! Mirrors client-java's JavaPeer: looks up the shared-memory object a C task
//! created under a well-known name (args[1], default "demo/greeting"), reads
//! its NUL-terminated greeting in place, and answers "rust saw: <greeting>"
//! into a 4096-byte SHMEM of its own under another name (args[2], default
//! "demo/answer/rust").  It holds the answer until stdin reaches EOF, then
//! deletes its reference and exits 0.  Any failing call: a message on stderr
//! and exit 1.
//!
//!   DIOS_SOCKET=/path/to/diosd.sock cargo run --offline --example rust_peer

use std::ffi::{CStr, CString};
use std::io::Read;
use std::os::raw::{c_char, c_int, c_void};
use std::process::exit;
use std::ptr;

use dios_sys::*;

const ANSWER_SIZE: u64 = 4096;

/// `rust: <call> failed: <text> (<code>)` on stderr, exit 1.
fn die(call: &str, rc: c_int) -> ! {
    let text = unsafe { CStr::from_ptr(dios_strerror(rc)) }.to_string_lossy();
    eprintln!("rust: {call} failed: {text} ({rc})");
    exit(1);
}

fn check(call: &str, rc: c_int) {
    if rc != 0 {
        die(call, rc);
    }
}

fn name_from_string(s: &str) -> dios_name_t {
    let c = CString::new(s).unwrap_or_else(|_| die("dios_name_from_string", -DIOS_EINVAL));
    let mut n = dios_name_t::default();
    check("dios_name_from_string", unsafe { dios_name_from_string(c.as_ptr(), &mut n) });
    n
}

fn name_text(n: &dios_name_t) -> String {
    let mut buf = [0 as c_char; DIOS_NAME_STRLEN];
    let p = unsafe { dios_nametostr(n, buf.as_mut_ptr()) };
    if p.is_null() {
        die("dios_nametostr", -DIOS_EINVAL);
    }
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// The bytes of an acquired buffer.
///
/// # Safety
/// `iov` must be a live buffer from an acquire on this task, not yet released.
unsafe fn bytes<'a>(iov: *mut dios_iovec_t) -> &'a [u8] {
    let v = &*iov;
    if v.len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(v.buf as *const u8, v.len as usize)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let input = args.get(1).map(String::as_str).unwrap_or("demo/greeting");
    let output = args.get(2).map(String::as_str).unwrap_or("demo/answer/rust");

    // 1. read the greeting in place, through a read-only reference
    let in_name = name_from_string(input);
    let mut r: *mut dios_ref_t = ptr::null_mut();
    let mut count: u64 = 1;
    check("dios_lookup", unsafe { dios_lookup(D_LOOKUP_READONLY, &in_name, &mut r, &mut count) });
    let mut iov: *mut dios_iovec_t = ptr::null_mut();
    check("dios_acquire_read", unsafe { dios_acquire_read(0, r, 0, &mut iov) });
    let greeting = {
        // SAFETY: iov is live until release_read below; the object is shared
        // memory another task may write, so copy it out before validating.
        let b = unsafe { bytes(iov) };
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        String::from_utf8_lossy(&b[..end]).into_owned()
    };
    // 0: nobody committed a write since the acquire, so what we copied is whole
    check("dios_commit_read", unsafe { dios_commit_read(0, r, iov) });
    check("dios_release_read", unsafe { dios_release_read(0, r, iov) });
    check("dios_delete", unsafe { dios_delete(0, r) });
    println!("rust: read \"{greeting}\" from {input} ({})", name_text(&in_name));

    // 2. answer under our own name
    let mut out_name = name_from_string(output);
    let mut mine: *mut dios_ref_t = ptr::null_mut();
    let size = ANSWER_SIZE;
    check("dios_create", unsafe {
        dios_create(
            D_CREATE_NAME_GIVEN,
            D_OBJ_SHMEM,
            &size as *const u64 as *const c_void,
            &mut out_name,
            &mut mine,
            0,
        )
    });
    let mut w: *mut dios_iovec_t = ptr::null_mut();
    check("dios_acquire_write", unsafe { dios_acquire_write(0, mine, 0, &mut w) });
    let answer = format!("rust saw: {greeting}");
    let committed = unsafe {
        let v = &*w;
        let len = v.len as usize;
        let dst = v.buf as *mut u8;
        ptr::write_bytes(dst, 0, len);
        // keep at least one NUL: readers take the answer as a C string
        let n = answer.len().min(len.saturating_sub(1));
        ptr::copy_nonoverlapping(answer.as_ptr(), dst, n);
        (n + 1).min(len) as u64
    };
    check("dios_commit_write", unsafe { dios_commit_write(0, mine, committed, w) });
    check("dios_release_write", unsafe { dios_release_write(0, mine, w) });
    println!("rust: answered under {output}; waiting for the reader to pick it up");

    // 3. stream 16 MiB through the FIFO the C task made, written in place 64 KiB at a time
    let stream_name = name_from_string("demo/stream/rust");
    let mut s: *mut dios_ref_t = ptr::null_mut();
    let mut count: u64 = 1;
    check("dios_lookup", unsafe { dios_lookup(0, &stream_name, &mut s, &mut count) });
    let total: u64 = 16 << 20;
    let mut pos: u64 = 0;
    while pos < total {
        let mut w: *mut dios_iovec_t = ptr::null_mut();
        check("dios_acquire_write", unsafe { dios_acquire_write(0, s, 65536, &mut w) });
        // SAFETY: w is live until release_write; the FIFO maps it writable for us alone
        let buf = unsafe { std::slice::from_raw_parts_mut((*w).buf as *mut u8, (*w).len as usize) };
        for (k, b) in buf.iter_mut().enumerate() {
            let p = pos + k as u64;
            *b = (p ^ (p >> 8) ^ (p >> 16)) as u8;
        }
        check("dios_commit_write", unsafe { dios_commit_write(0, s, 65536, w) });
        check("dios_release_write", unsafe { dios_release_write(0, s, w) });
        pos += 65536;
    }
    check("dios_delete", unsafe { dios_delete(0, s) }); // the writer end goes: end of stream
    println!("rust: streamed {total} bytes through demo/stream/rust");

    // 4. keep the answer alive until stdin closes (the demo closes it once checked)
    let mut sink = [0u8; 256];
    let mut stdin = std::io::stdin().lock();
    loop {
        match stdin.read(&mut sink) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    check("dios_delete", unsafe { dios_delete(0, mine) });
}
