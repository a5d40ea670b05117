//! Link libdlibc dynamically.
//!
//! The library directory is `$DIOS_LIB_DIR` if set, else `libdlibc-shim/build`
//! (`<this crate>/../../build`), where `make -C libdlibc-shim` puts
//! libdlibc.so, else, for the copy installed at PREFIX/share/dios/rust,
//! PREFIX/lib.  The directory is also baked in as an rpath so this crate's
//! own examples and tests run without LD_LIBRARY_PATH ($DIOS_RPATH overrides it).  Note that cargo
//! applies `rustc-link-arg` only to this package's targets: a dependent crate
//! gets the search path and the library, and finds the directory in
//! `DEP_DLIBC_LIB_DIR` if it wants an rpath of its own; `dios-cargo` (the
//! linker wrapper tools/cc-brand) gives every program that links libdlibc
//! one.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=DIOS_LIB_DIR");
    println!("cargo:rerun-if-env-changed=DIOS_RPATH");

    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let dir = match env::var_os("DIOS_LIB_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        // the source tree's libdlibc-shim/build, else an installed tree's lib/
        // (this crate at PREFIX/share/dios/rust/dios-sys)
        _ => ["../../build", "../../../../lib"]
            .iter()
            .map(|d| manifest.join(d))
            .find(|d| d.join("libdlibc.so").exists())
            .unwrap_or_else(|| manifest.join("../../build")),
    };
    // An absolute, normalised path: the rpath must not depend on the cwd.
    let dir = dir.canonicalize().unwrap_or_else(|e| {
        panic!(
            "dios-sys: libdlibc directory {} not usable ({e}); build it with \
             `make -C libdlibc-shim` or point DIOS_LIB_DIR at a directory holding libdlibc.so",
            dir.display()
        )
    });
    let so = dir.join("libdlibc.so");
    if !so.exists() {
        panic!(
            "dios-sys: {} not found; build it with `make -C libdlibc-shim` \
             or point DIOS_LIB_DIR at a directory holding libdlibc.so",
            so.display()
        );
    }
    println!("cargo:rerun-if-changed={}", so.display());

    let d = dir.to_str().expect("dios-sys: DIOS_LIB_DIR must be valid UTF-8");
    println!("cargo:rustc-link-search=native={d}");
    println!("cargo:rustc-link-lib=dylib=dlibc");
    // $DIOS_RPATH overrides the baked-in path; staging uses it to give the
    // binaries it copies into dist/ an $ORIGIN-relative rpath.
    match env::var("DIOS_RPATH") {
        Ok(r) if !r.is_empty() => println!("cargo:rustc-link-arg=-Wl,-rpath,{r}"),
        _ => println!("cargo:rustc-link-arg=-Wl,-rpath,{d}"),
    }
    // `links = "dlibc"`: dependents see this as DEP_DLIBC_LIB_DIR.
    println!("cargo:lib_dir={d}");
}
