//! A task's environment: this process's by default, changed with
//! `TaskBuilder` and `Exe::command` as with `std::process::Command`; and the
//! error of an unbranded program, which says how to brand it.

mod common;

use std::sync::Mutex;

use common::daemon;
use dios::sys::*;
use dios::{errno_of, Channel, Exe, Fifo, TaskBuilder, ENTRY_ARG};

/// Answers each variable name it is sent with its value in this task's
/// environment (None: unset), until an empty name.
fn env_of(chan: Channel) {
    loop {
        let k: String = chan.recv().unwrap();
        if k.is_empty() {
            return;
        }
        chan.send(std::env::var(&k).ok()).unwrap();
    }
}

/// Started by hand (`Exe::command`): exits 0 if its environment is exactly
/// ONLY=1 plus the daemon's DIOS_SOCKET, else 3.
fn only_one(_chan: Channel) {
    let vars: Vec<(String, String)> = std::env::vars().collect();
    let ok = vars.len() == 2
        && std::env::var("ONLY").as_deref() == Ok("1")
        && std::env::var("DIOS_SOCKET").is_ok();
    if !ok {
        eprintln!("only_one: {vars:?}");
        std::process::exit(3);
    }
}

dios::entries!(env_of, only_one);

/// set_var while another test's spawn reads environ is a data race: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn ask(c: &Channel, k: &str) -> Option<String> {
    c.send(k.to_string()).unwrap();
    c.recv::<Option<String>>().unwrap()
}

fn done(c: Channel) {
    c.send(String::new()).unwrap();
    assert!(c.wait().unwrap().success());
}

#[test]
fn a_task_inherits_this_processs_environment() {
    daemon();
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    std::env::set_var("DIOS_RS_ENV_TEST", "set at run time");
    let c = dios::spawn_task(env_of).unwrap();
    assert_eq!(ask(&c, "DIOS_RS_ENV_TEST").as_deref(), Some("set at run time"));
    assert_eq!(ask(&c, "CARGO_MANIFEST_DIR"), Some(std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets it")));
    assert_eq!(ask(&c, "DIOS_SOCKET"), Some(std::env::var("DIOS_SOCKET").unwrap()), "the daemon's socket");
    assert_eq!(ask(&c, "DIOS_FD"), None, "the shim took its connection's variable");
    done(c);
    std::env::remove_var("DIOS_RS_ENV_TEST");
}

#[test]
fn a_builder_sets_removes_and_clears_variables() {
    daemon();
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets it");
    let c = TaskBuilder::new(env_of).env("DIOS_RS_SET", "a=b c").env_remove("CARGO_MANIFEST_DIR").spawn().unwrap();
    assert_eq!(ask(&c, "DIOS_RS_SET").as_deref(), Some("a=b c"));
    assert_eq!(ask(&c, "CARGO_MANIFEST_DIR"), None, "removed");
    assert_eq!(ask(&c, "CARGO_PKG_NAME").as_deref(), Some("dios"), "the rest kept");
    done(c);
    let c = TaskBuilder::new(env_of).env_clear().env("ONLY", "1").spawn().unwrap();
    assert_eq!(ask(&c, "ONLY").as_deref(), Some("1"));
    assert_eq!(ask(&c, "CARGO_PKG_NAME"), None, "cleared");
    assert_eq!(ask(&c, "DIOS_SOCKET"), Some(std::env::var("DIOS_SOCKET").unwrap()), "but the daemon's socket, always");
    done(c);
    assert!(!manifest.is_empty());
}

#[test]
fn a_command_gives_exactly_its_environment() {
    daemon();
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let exe = Exe::current().unwrap();
    let (down, up) = (Fifo::with_capacity(4096).unwrap(), Fifo::with_capacity(4096).unwrap());
    let t = exe
        .command("env-by-hand")
        .args([ENTRY_ARG, "1", "only_one"])
        .delegate(&down)
        .delegate(&up)
        .env_clear()
        .env("ONLY", "1")
        .env("DIOS_SOCKET", "/nowhere/given.sock") // the daemon's wins
        .spawn()
        .unwrap();
    let st = t.wait().unwrap();
    assert!(st.success(), "only_one saw another environment: {st}");
    // the bound: 16 KiB of strings, NULs included; a name with '=': EINVAL
    let big = "x".repeat(DIOS_RUN_MAX_ENV_BYTES as usize);
    let e = exe.command("x").env("BIG", &big).spawn().unwrap_err();
    assert_eq!(errno_of(&e), Some(DIOS_E2BIG), "{e}");
    let e = exe.command("x").env("A=B", "1").spawn().unwrap_err();
    assert_eq!(errno_of(&e), Some(DIOS_EINVAL), "{e}");
}

#[test]
fn an_unbranded_program_says_how_to_brand_it() {
    daemon();
    let t = Exe::open("/bin/true").unwrap();
    for e in [t.run(&["true"], &[]).unwrap_err(), t.command("true").spawn().unwrap_err()] {
        assert_eq!(errno_of(&e), Some(DIOS_ENOEXEC), "{e}");
        let m = e.to_string();
        assert!(m.contains("lacks a DIOS brand"), "{m}");
        assert!(m.contains("dios brand --limbo PROGRAM"), "{m}");
        assert!(m.contains("dios-cargo"), "{m}");
        assert!(e.get_ref().and_then(|i| i.downcast_ref::<dios::NotBranded>()).is_some());
    }
}
