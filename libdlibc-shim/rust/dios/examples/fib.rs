//! fib - the seed's Fibonacci with tasks (listing 4.4).
//!
//! Every recursive call of fib(n) for n >= 2 spawns two tasks, copies of this
//! program started at `fib_task`, and talks to them over channels.  The
//! listing's only changes: `dios::` is a crate, not `std::os::dios`; the
//! entry function is listed in `dios::entries!` (the whitelist of entry
//! points, seed section 3.3.3); and the two answers say their type
//! (`recv::<u32>`), since a channel carries any `dios::Wire` value, not only
//! the seed's `u32`.  Prints the same as its Linux version
//! (appendix A.1, in perf/src/bench_tasks.c and the Rust bench_tasks_rs).
//!
//!   DIOS_SOCKET=/path/to/diosd.sock cargo run --offline --example fib [N]

fn fib(n: u32) -> u32 {
    fn fib_task(chan: dios::Channel) {
        let n = chan.recv().unwrap();
        chan.send(fib(n)).unwrap();
    }
    dios::entries!(fib_task);

    match n {
        0 => 0,
        1 => 1,
        _ => {
            let fib1 = dios::spawn_task(fib_task).unwrap();
            fib1.send(n - 2).unwrap();
            let fib2 = dios::spawn_task(fib_task).unwrap();
            fib2.send(n - 1).unwrap();
            fib1.recv::<u32>().unwrap() + fib2.recv::<u32>().unwrap()
        }
    }
}

fn main() {
    let n = std::env::args().nth(1).map_or(10, |a| a.parse().expect("usage: fib [N]"));
    println!("fib({}) = {}", n, fib(n));
}
