//! primes - the seed's parallel sum of the primes below 1,000 (appendix A.2,
//! section 4.2.5): 12 mapper tasks test numbers for primality, 8 reducer
//! tasks sum them, and the coordinator (main) deals the numbers out round
//! robin, shuffles the primes the mappers return to the reducers, and adds
//! up the reducers' sums.  Every task is a copy of this program started at
//! `filter_prime` or `sum`, listed in `dios::entries!`.  The listing's other
//! changes: `dios::` is a crate; three `recv`s say their type
//! (`recv::<u32>`) where nothing else does, since a channel carries any
//! `dios::Wire` value, not only the seed's `u32`; and the coordinator's
//! `// ... and dance!` comment went with its link.  Prints 76127, as its Linux version does
//! (perf/src/bench_tasks.c, and the Rust bench_tasks_rs).
//!
//!   DIOS_SOCKET=/path/to/diosd.sock cargo run --offline --example primes

const EOD: u32 = 0xffffffff;

#[rustfmt::skip]
fn filter_prime(chan: dios::Channel) {
    'all: loop {
        let input = chan.recv().unwrap();
        if input == EOD { break; }
        match input {
            0|1 => continue 'all,
            2 => (),
            _ => for i in 2..input {
                if input%i == 0 { continue 'all }
            }
        }
        chan.send(input).unwrap();
    }
    chan.send(EOD).unwrap();
}

#[rustfmt::skip]
fn sum(chan: dios::Channel) {
    let mut sum = 0;
    loop {
        let input = chan.recv::<u32>().unwrap();
        if input == EOD { break; }
        sum += input;
    }
    chan.send(sum).unwrap();
}

dios::entries!(filter_prime, sum);

#[rustfmt::skip]
#[allow(clippy::len_zero)] // (as the listing has it)
fn main() {
    const NR_MAPS: u32 = 12;
    const NR_REDS: u32 = 8;
    const NR_DATA: usize = 1000;

    let mut mappers = Vec::new();
    let mut reducers = Vec::new();

    // Spawn tasks
    for _ in 0..NR_MAPS {
        mappers.push(dios::spawn_task(filter_prime).unwrap());
    }
    for _ in 0..NR_REDS {
        reducers.push(dios::spawn_task(sum).unwrap());
    }

    // Send data using RR
    for i in 0..NR_DATA {
        mappers[i%NR_MAPS as usize].send(i as u32).unwrap();
    }
    for i in 0..NR_MAPS {
        mappers[i as usize].send(EOD).unwrap();
    }

    // Shuffle mappings
    let mut shuffle = 0;
    while mappers.len() > 0 {
        for i in 0..mappers.len() {
            let input = mappers[i].recv::<u32>().unwrap();
            if input == EOD {
                mappers.remove(i);
                break;
            }
            reducers[shuffle%NR_REDS as usize].send(input).unwrap();
            shuffle += 1;
        }
    }
    for reducer in &reducers { reducer.send(EOD).unwrap(); }

    // Collect reductions
    let mut sum = 0;
    for reducer in &reducers { sum += reducer.recv::<u32>().unwrap(); }
    println!("{}", sum);
}
