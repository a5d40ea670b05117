//! An rpath for this crate's own examples and tests.
//!
//! dios-sys finds libdlibc and links it, but cargo applies a package's
//! `rustc-link-arg` to that package's own targets only; its build script
//! publishes the directory as `DEP_DLIBC_LIB_DIR` (`links = "dlibc"`), and
//! this one bakes it in as an rpath, or `$DIOS_RPATH` when set (staging gives
//! the copies in dist/ an `$ORIGIN`-relative one), as dios-sys does.

use std::env;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=DIOS_RPATH");
    let rpath = match env::var("DIOS_RPATH") {
        Ok(r) if !r.is_empty() => r,
        _ => env::var("DEP_DLIBC_LIB_DIR").expect("dios: dios-sys did not publish DEP_DLIBC_LIB_DIR"),
    };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{rpath}");
}
