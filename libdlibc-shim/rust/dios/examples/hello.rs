//! hello - hello world, on stdout and through the DIOS console.
//!
//! The console writes to the terminal this task was started from or, without
//! one, into the daemon's log tagged with the task.
//!
//!   DIOS_SOCKET=/path/to/diosd.sock cargo run --offline --example hello

use std::io::Write;

fn main() -> std::io::Result<()> {
    dios::init(); // this program's panics go to the console too
    println!("hello, world");
    let mut console = dios::Console::open()?;
    writeln!(console, "hello, world (through the DIOS console, from pid {})", std::process::id())?;
    Ok(())
}
