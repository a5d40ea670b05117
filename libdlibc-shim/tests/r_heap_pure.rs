// r_heap_pure - a Rust std program run by t_heap_pure as a Pure DIOS task
// (built by the tests' Makefile with rustc when it is installed, linked
// against libdlibc, branded --pure).  Rust's global allocator is the system
// malloc, so on DIOS its heap is libdlibc's DIOS heap, locked; Rust std also
// maps a signal stack per thread with libc's mmap, which libdlibc serves from
// the heap once anonymous mmap is denied.  Exits 0 when every check holds;
// a failed check panics (exit 101), a denied call it did not expect kills it.

use std::hint::black_box;
use std::thread;

#[repr(C)]
#[derive(Default, Debug)]
struct HeapStats {
    mode: u32,
    locked: u32,
    objects: u64,
    bytes_held: u64,
    chunks: u64,
    large: u64,
    cached_bytes: u64,
    daemon_calls: u64,
    failures: u64,
    meta_bytes: u64,
    bootstrap_bytes: u64,
}

#[link(name = "dlibc")]
extern "C" {
    fn dios_heap_stats(out: *mut HeapStats) -> i32;
}

fn stats() -> HeapStats {
    let mut s = HeapStats::default();
    assert_eq!(unsafe { dios_heap_stats(&mut s) }, 0);
    s
}

fn strings(n: usize) -> usize {
    let mut v: Vec<String> = Vec::new();
    for i in 0..n {
        let mut s = format!("string {i}");
        s.insert_str(0, "a ");
        s.push('!');
        v.push(s);
    }
    v.retain(|s| s.len() % 2 == 0);
    v.iter().map(|s| s.len()).sum()
}

fn main() {
    let s = stats();
    assert_eq!((s.mode, s.locked), (2, 1), "not the locked DIOS heap: {s:?}");
    let want = strings(20_000);
    let workers: Vec<_> = (0..3)
        .map(|i| thread::Builder::new().name(format!("heap-{i}")).spawn(|| strings(20_000)).unwrap())
        .collect();
    for w in workers {
        assert_eq!(w.join().unwrap(), want);
    }
    let big = black_box(vec![7u8; 5 << 20]);
    let s = stats();
    assert!(s.large >= 1, "a 5 MiB Vec is not a block of its own: {s:?}");
    assert!(s.bytes_held >= (5 << 20) + (4 << 20), "{s:?}");
    assert_eq!(s.failures, 0);
    assert_eq!(big.iter().map(|&b| b as u64).sum::<u64>(), 7 * (5 << 20));
    println!("r_heap_pure: ok, {} heap bytes, {} DIOS calls", s.bytes_held, s.daemon_calls);
}
