//! Shared by the integration tests: where the repository is, and the facts
//! native/build/abi_dump prints about dios_abi.h.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The repository root: `<crate>/../../..`.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../..")
        .canonicalize()
        .expect("repository root")
}

/// `key=value` lines of abi_dump, e.g. `const.D_OBJ_SHMEM` -> `2`.
pub fn abi_dump() -> &'static BTreeMap<String, String> {
    static FACTS: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    FACTS.get_or_init(load_abi_dump)
}

fn load_abi_dump() -> BTreeMap<String, String> {
    let path = match std::env::var_os("DIOS_ABI_DUMP") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => {
            let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../native/build/abi_dump");
            if !p.exists() {
                let native = repo_root().join("native");
                let st = Command::new("make")
                    .arg("-C")
                    .arg(&native)
                    .status()
                    .unwrap_or_else(|e| panic!("cannot run make -C {}: {e}", native.display()));
                assert!(st.success(), "make -C {} failed: {st}", native.display());
            }
            p
        }
    };
    let out = Command::new(&path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()));
    assert!(
        out.status.success(),
        "{} failed ({}): {}",
        path.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("abi_dump prints UTF-8");
    let mut facts = BTreeMap::new();
    for line in text.lines() {
        let (k, v) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("abi_dump: malformed line {line:?}"));
        assert!(
            facts.insert(k.to_string(), v.to_string()).is_none(),
            "abi_dump: {k} printed twice"
        );
    }
    assert!(facts.len() > 100, "abi_dump printed only {} facts", facts.len());
    facts
}

/// A numeric fact of abi_dump, or None if it does not print that key.
pub fn num(key: &str) -> Option<u128> {
    abi_dump().get(key).map(|v| {
        v.parse()
            .unwrap_or_else(|_| panic!("abi_dump: {key}={v} is not a number"))
    })
}
