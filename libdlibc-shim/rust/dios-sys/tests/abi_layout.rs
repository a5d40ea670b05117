//! Holds dios-sys to the C headers without a daemon:
//!  * the ring/message structs of dios_abi.h: size and every field offset
//!    against native/build/abi_dump (`$DIOS_ABI_DUMP` overrides the path);
//!  * every constant dios-sys defines against abi_dump's `const.`/`str.` line
//!    (dios_abi.h) or `api.const.`/`api.str.` line (dios.h) of the same name,
//!    and every constant abi_dump prints is either mirrored or listed in
//!    NOT_MIRRORED below (so a constant added to a header forces a decision
//!    here);
//!  * the public dios.h structs both ways against abi_dump's `api.` lines:
//!    the same structs, the same fields, offsets and sizes;
//!  * and their alignment, with the scalar typedefs, against a small C
//!    program compiled with gcc (`$CC` overrides) right here.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::mem::{align_of, offset_of, size_of};
use std::path::PathBuf;
use std::process::Command;

use dios_sys::*;

// ---------------------------------------------------------------------------
// ring and control-message structs vs abi_dump
// ---------------------------------------------------------------------------

/// C field name: the Rust name, or the literal after `as` (Rust keywords).
macro_rules! cname {
    ($f:ident) => {
        stringify!($f)
    };
    ($f:ident $c:literal) => {
        $c
    };
}

/// The size of the field a projection closure reaches.
fn field_size<T, F>(_: fn(&T) -> &F) -> usize {
    size_of::<F>()
}

/// (struct name, size, align, [(C field name, offset)], [field size]) of a Rust struct.
macro_rules! layout {
    ($st:ident { $($f:ident $(as $c:literal)?),* $(,)? }) => {
        Layout {
            name: stringify!($st),
            size: size_of::<$st>(),
            align: align_of::<$st>(),
            fields: vec![$((cname!($f $($c)?), offset_of!($st, $f))),*],
            field_sizes: vec![$(field_size(|s: &$st| &s.$f)),*],
        }
    };
}

struct Layout {
    name: &'static str,
    size: usize,
    align: usize,
    fields: Vec<(&'static str, usize)>,
    field_sizes: Vec<usize>,
}

fn ring_layouts() -> Vec<Layout> {
    vec![
        layout!(dios_sqe {
            opcode, sqe_flags, rsvd0, obj_type, user_data, flags, ref_ as "ref",
            len, buf, ref2, timeout_ns, name, rsvd3,
        }),
        layout!(dios_cqe { user_data, res, flags, val }),
        layout!(dios_region_header {
            magic, abi_version, region_size, sq_offset, sq_entries, sqe_size,
            cq_offset, cq_entries, cqe_size, pad0, task_id, self_ref, pid,
            self_exe, rsvd_info,
            sq_tail, pad_sq_tail, sq_head, pad_sq_head, sq_flags, pad_sq_flags,
            cq_tail, pad_cq_tail, cq_head, pad_cq_head, cq_waiters, pad_cq_waiters,
            daemon_state, pad_daemon_state,
        }),
        layout!(dios_msg_hello { magic, abi_version, flags, rsvd }),
        layout!(dios_msg_welcome { magic, abi_version, status, region_size, task_id, rsvd }),
        layout!(dios_msg_segment { magic, prot, seg_id, size, rsvd }),
        layout!(dios_msg_exe_fd { magic, rsvd, user_data }),
        layout!(dios_fifo_ctl { capacity, magic, pad0, rsvd_info, tail, pad_tail, head, pad_head,
                                waiters, pad_waiters, state, pad_state }),
        layout!(dios_run_args { argc, ref_count, group_count, argv_bytes }),
        layout!(dios_task_exit { status, pid, task_id }),
    ]
}

#[test]
fn ring_structs_match_abi_dump() {
    let facts = common::abi_dump();
    let mut errs = Vec::new();
    let layouts = ring_layouts();

    // abi_dump prints exactly these structs
    let c_structs: BTreeSet<&str> = facts.keys().filter_map(|k| k.strip_prefix("sizeof.")).collect();
    let rust_structs: BTreeSet<&str> = layouts.iter().map(|l| l.name).collect();
    if c_structs != rust_structs {
        errs.push(format!("abi_dump structs {c_structs:?} != dios-sys structs {rust_structs:?}"));
    }

    for l in &layouts {
        match common::num(&format!("sizeof.{}", l.name)) {
            Some(c) if c == l.size as u128 => {}
            c => errs.push(format!("sizeof {}: C {c:?}, Rust {}", l.name, l.size)),
        }
        let prefix = format!("offsetof.{}.", l.name);
        let c_fields: BTreeSet<&str> = facts.keys().filter_map(|k| k.strip_prefix(prefix.as_str())).collect();
        let rust_fields: BTreeSet<&str> = l.fields.iter().map(|f| f.0).collect();
        for missing in c_fields.difference(&rust_fields) {
            errs.push(format!("{}.{missing}: in C, not in dios-sys", l.name));
        }
        for extra in rust_fields.difference(&c_fields) {
            errs.push(format!("{}.{extra}: in dios-sys, not in C", l.name));
        }
        for &(f, off) in &l.fields {
            if let Some(c) = common::num(&format!("{prefix}{f}")) {
                if c != off as u128 {
                    errs.push(format!("offsetof {}.{f}: C {c}, Rust {off}", l.name));
                }
            }
        }
    }
    assert!(errs.is_empty(), "layout mismatches:\n  {}", errs.join("\n  "));
}

// ---------------------------------------------------------------------------
// constants vs abi_dump
// ---------------------------------------------------------------------------

macro_rules! consts {
    ($($c:ident),* $(,)?) => {
        vec![$((stringify!($c), $c as i128)),*]
    };
}

/// Every numeric constant dios-sys defines (the test below checks that this
/// list is complete against src/lib.rs).
fn mirrored() -> Vec<(&'static str, i128)> {
    consts![
        DIOS_ABI_VERSION, DIOS_NAME_BYTES, DIOS_NAME_STRLEN,
        D_OBJ_NONE, D_OBJ_PRIVMEM, D_OBJ_SHMEM, D_OBJ_FIFO, D_OBJ_BLOB, D_OBJ_CONSOLE,
        D_OBJ_TASK, D_OBJ_GROUP, D_OBJ_EXE, D_OP_DELEGATED, DIOS_EPERM, DIOS_ESRCH, DIOS_ENOEXEC,
        D_OP_NOP, D_OP_CREATE, D_OP_LOOKUP, D_OP_COPY, D_OP_DELETE, D_OP_RUN, D_OP_SELECT,
        D_OP_ACQUIRE_READ, D_OP_COMMIT_READ, D_OP_RELEASE_READ, D_OP_ACQUIRE_WRITE,
        D_OP_COMMIT_WRITE, D_OP_RELEASE_WRITE, D_OP_REF_INFO, D_OP_STATS,
        DIOS_E2BIG, DIOS_ENOENT, DIOS_EIO, DIOS_EBADF, DIOS_EAGAIN, DIOS_ENOMEM, DIOS_EACCES,
        DIOS_EFAULT, DIOS_EEXIST, DIOS_EINVAL, DIOS_ENOSPC, DIOS_EPIPE, DIOS_ENOSYS,
        DIOS_EIDRM, DIOS_EPROTO, DIOS_EOPNOTSUPP, DIOS_ENOTCONN, DIOS_EHOSTDOWN, DIOS_ESTALE, DIOS_ETIMEDOUT, DIOS_EDQUOT,
        D_NONBLOCK, D_TIMEOUT, D_CREATE_NAME_GIVEN, D_CREATE_NAMED, D_NAME_DETERMINISTIC_STRING,
        D_LOOKUP_READONLY, D_CREATE_PUBLIC, D_LOOKUP_PUBLIC, D_DELETE_ZOMBIFY, D_COPY_READONLY, D_RUN_SECCOMP_KILL, D_ACQUIRE_EXCLUSIVE,
        D_PERM_READ, D_PERM_WRITE, D_PERM_DELETE,
        D_REF_STATE_NAMED, D_REF_STATE_ZOMBIE, D_REF_STATE_READABLE, D_REF_STATE_WRITABLE,
        DIOS_SQ_ENTRIES, DIOS_CQ_ENTRIES, DIOS_MAX_OBJECT_SIZE, DIOS_MAX_LOOKUP_REFS,
        D_OP_NOTIFY, DIOS_EBUSY, DIOS_MAX_SELECT_REFS, DIOS_FIFO_ALIGN, DIOS_FIFO_DEFAULT_CAPACITY,
        DIOS_FIFO_MAX_CAPACITY, DIOS_CONSOLE_BUF_BYTES, D_FIFO_END_READER, D_FIFO_END_WRITER,
        DIOS_RUN_MAX_ENV_BYTES,
        D_DETAIL_MAX_REFS, D_DETAIL_MAX_BUFFERS, D_DETAIL_MAX_PARKED, D_DETAIL_MAX_TASK_MEMORY,
        D_DETAIL_MAX_SELECT, D_DETAIL_MAX_GROUPS, D_DETAIL_QUOTA_OBJECTS, D_DETAIL_QUOTA_NAMES,
        D_DETAIL_QUOTA_MEMORY, D_DETAIL_QUOTA_FIFOS, D_DETAIL_QUOTA_BLOBS, D_DETAIL_QUOTA_BLOB_BYTES, D_DETAIL_LAST,
    ]
}

/// String constants dios-sys defines, checked against abi_dump's `str.` lines.
fn mirrored_strings() -> Vec<(&'static str, &'static str)> {
    vec![
        ("DIOS_ENV_SOCKET", DIOS_ENV_SOCKET),
        ("DIOS_ENV_SPIN_NS", DIOS_ENV_SPIN_NS),
        ("DIOS_ENV_HEAP", DIOS_ENV_HEAP),
        ("DIOS_CONSOLE_NAME_STRING", DIOS_CONSOLE_NAME_STRING),
    ]
}

/// Constants abi_dump prints that dios-sys deliberately does not mirror.
/// A client links libdlibc and never speaks the ring protocol itself, so:
const NOT_MIRRORED: &[&str] = &[
    // enum sentinels: their value moves whenever a type/op is added, so code
    // using them would silently change meaning
    "D_OBJ_LAST",
    "D_OP_LAST",
    // per-call flag masks: the daemon's validation, not something to pass
    "D_FLAGS_CREATE_MASK",
    "D_FLAGS_LOOKUP_MASK",
    "D_FLAGS_DELETE_MASK",
    "D_FLAGS_IO_MASK",
    "D_FLAGS_WAIT_MASK",
    // ring and region internals (the shim's business)
    "DIOS_REGION_MAGIC",
    "D_SQE_ARG",
    "D_SQE_NO_CQE",
    "D_CQE_F_SEGMENT",
    "D_CQE_F_UNMAP",
    "D_SQ_NEED_WAKEUP",
    "D_DSTATE_SHUTDOWN",
    "DIOS_REGION_HEADER_SIZE",
    "DIOS_REGION_SQ_OFFSET",
    "DIOS_REGION_CQ_OFFSET",
    "DIOS_REGION_SIZE",
    "DIOS_REGION_ARGS_OFFSET",
    "DIOS_ARGS_BYTES",
    "DIOS_ARGS_CHUNK",
    "D_CQE_F_FIFO",
    "D_SEG_RING",
    // the FIFO control page's protocol (the shim's business)
    "DIOS_FIFO_MAGIC",
    "DIOS_FIFO_CTL_SIZE",
    "D_FIFO_WAIT_READER",
    "D_FIFO_WAIT_WRITER",
    "D_FIFO_NOTIFY_READ",
    "D_FIFO_NOTIFY_WRITE",
    "D_FIFO_ST_WRITER_GONE",
    "D_FIFO_ST_READER_GONE",
    "D_FIFO_ST_ZOMBIE",
    // tasks: the shim encodes these; clients use dios_run/dios_copy/dios_wait
    "D_FLAGS_COPY_MASK",
    "D_FLAGS_RUN_MASK",
    "D_FLAGS_ACQUIRE_WRITE_MASK",
    "D_SQE_ARGS",
    "D_SQE_FD",
    "D_CQE_F_INLINE",
    // the detail's carrier and the reference tag: the shim reads them
    // (dios_last_error_detail, dios_reconnect)
    "D_CQE_F_DETAIL",
    "DIOS_REF_TAG_SHIFT",
    "DIOS_EXE_PATH_MAX",
    "DIOS_RUN_MAX_REFS",
    "DIOS_RUN_MAX_GROUPS",
    "DIOS_RUN_MAX_ARGV_BYTES",
    "D_RUN_ENV",
    "DIOS_MAX_COPY_REFS",
    "DIOS_DELEGATED_BATCH",
    "DIOS_ENV_FD",
    "DIOS_ENV_PURE",
    "DIOS_SPAWN_SOCKET_FD",
    "DIOS_ELF_OSABI",
    "DIOS_BRAND_PURE",
    "DIOS_BRAND_LIMBO",
    "DIOS_BRAND_LEGACY_LIMBO",
    // control-socket messages
    "D_HELLO_F_TTY",
    "D_HELLO_F_STDIO",
    "DIOS_MSG_HELLO",
    "DIOS_MSG_WELCOME",
    "DIOS_MSG_SEGMENT",
    "DIOS_MSG_EXE_FD",
    "D_SEG_READ",
    "D_SEG_WRITE",
    // socket-path pieces: the shim resolves the path ($DIOS_SOCKET is mirrored)
    "DIOS_RUNTIME_SUBDIR",
    "DIOS_TMP_DIR_PREFIX",
    "DIOS_SOCKET_NAME",
    "DIOS_SYSTEM_SOCKET",
    "DIOS_STATE_SUBDIR",
    "DIOS_RPC_SUFFIX",
    // the operator's socket: the dios tool's, never a task's
    "DIOS_ADMIN_SUFFIX",
    // dios.h: libdlibc's own heap tuning, and dios_heap_stats_t.mode's values
    // (documented on that field)
    "DIOS_HEAP_CHUNK_BYTES",
    "DIOS_HEAP_MMAP_THRESHOLD",
    "DIOS_HEAP_MODE_LIBC",
    "DIOS_HEAP_MODE_DIOS",
];

/// A numeric constant of either header: `const.` (dios_abi.h) or `api.const.` (dios.h).
fn c_num(name: &str) -> Option<u128> {
    common::num(&format!("const.{name}")).or_else(|| common::num(&format!("api.const.{name}")))
}

/// A string constant of either header.
fn c_str(name: &str) -> Option<&'static String> {
    let facts = common::abi_dump();
    facts.get(&format!("str.{name}")).or_else(|| facts.get(&format!("api.str.{name}")))
}

#[test]
fn constants_match_abi_dump() {
    let mut errs = Vec::new();
    for (name, v) in mirrored() {
        match c_num(name) {
            None => errs.push(format!("{name}: defined in dios-sys but abi_dump prints no const.{name}")),
            Some(c) if c as i128 != v => errs.push(format!("{name}: C {c}, Rust {v}")),
            Some(_) => {}
        }
    }
    for (name, v) in mirrored_strings() {
        match c_str(name) {
            None => errs.push(format!("{name}: defined in dios-sys but abi_dump prints no str.{name}")),
            Some(c) if c != v => errs.push(format!("{name}: C {c:?}, Rust {v:?}")),
            Some(_) => {}
        }
    }
    assert!(errs.is_empty(), "constant mismatches:\n  {}", errs.join("\n  "));
}

#[test]
fn every_constant_is_mirrored_or_listed() {
    let facts = common::abi_dump();
    let mine: BTreeSet<&str> = mirrored()
        .into_iter()
        .map(|c| c.0)
        .chain(mirrored_strings().into_iter().map(|c| c.0))
        .collect();
    let skipped: BTreeSet<&str> = NOT_MIRRORED.iter().copied().collect();
    let c_consts: BTreeSet<&str> = facts
        .keys()
        .filter_map(|k| {
            ["const.", "str.", "api.const.", "api.str."].iter().find_map(|p| k.strip_prefix(p))
        })
        .collect();
    let mut errs = Vec::new();
    for c in &c_consts {
        if !mine.contains(c) && !skipped.contains(c) {
            errs.push(format!("{c}: new in dios_abi.h or dios.h: mirror it in dios-sys or add it to NOT_MIRRORED"));
        }
    }
    for c in &skipped {
        if !c_consts.contains(c) {
            errs.push(format!("{c}: in NOT_MIRRORED but abi_dump no longer prints it"));
        }
        if mine.contains(c) {
            errs.push(format!("{c}: both mirrored and in NOT_MIRRORED"));
        }
    }
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

/// The lists above must name every `pub const` of src/lib.rs, or a constant
/// could be added to dios-sys without being checked.
#[test]
fn test_lists_cover_every_pub_const() {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs")).unwrap();
    let defined: BTreeSet<String> = src
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("pub const "))
        .map(|l| l.split(':').next().unwrap().trim().to_string())
        .collect();
    assert!(defined.len() > 50, "found only {} pub consts in src/lib.rs", defined.len());
    let listed: BTreeSet<String> = mirrored()
        .into_iter()
        .map(|c| c.0.to_string())
        .chain(mirrored_strings().into_iter().map(|c| c.0.to_string()))
        .collect();
    let unlisted: Vec<_> = defined.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&defined).collect();
    assert!(unlisted.is_empty(), "pub consts not checked by this test: {unlisted:?}");
    assert!(stale.is_empty(), "listed here but not in src/lib.rs: {stale:?}");
}

// ---------------------------------------------------------------------------
// public dios.h structs vs gcc
// ---------------------------------------------------------------------------

fn public_layouts() -> Vec<Layout> {
    vec![
        layout!(dios_name_t { raw }),
        layout!(dios_iovec_t { buf, len }),
        layout!(dios_task_spec_t { argc, argv, refs, ref_count, groups, group_count }),
        layout!(dios_ref_info_t {
            type_ as "type", perms, state, proximity, consistency, pad, size, object_id,
        }),
        layout!(dios_daemon_stats_t { tasks, objects, names, refs, buffers, segments }),
        layout!(dios_heap_stats_t {
            mode, locked, objects, bytes_held, chunks, large, cached_bytes, daemon_calls, failures, meta_bytes,
            bootstrap_bytes,
        }),
        layout!(dios_call_t {
            opcode, res, flags, type_ as "type", pad, arg, name, ref_ as "ref", len, iov, info,
        }),
    ]
}

/// Scalar typedefs of dios.h: (name, size, align) in Rust.
fn public_scalars() -> Vec<(&'static str, usize, usize)> {
    vec![
        ("dios_flags_t", size_of::<dios_flags_t>(), align_of::<dios_flags_t>()),
        ("dios_object_type_t", size_of::<dios_object_type_t>(), align_of::<dios_object_type_t>()),
    ]
}

/// Compile and run a C program printing sizeof/_Alignof/offsetof of the
/// public structs; the program is generated from the Rust field lists.
fn c_public_facts() -> BTreeMap<String, u128> {
    let root = common::repo_root();
    let mut c = String::from(
        "#include <stddef.h>\n#include <stdio.h>\n#include <dios/dios.h>\n\
         #define S(t) printf(\"sizeof.%s=%zu\\nalignof.%s=%zu\\n\", #t, sizeof(t), #t, _Alignof(t));\n\
         #define O(t, f) printf(\"offsetof.%s.%s=%zu\\n\", #t, #f, offsetof(t, f));\n\
         int main(void)\n{\n",
    );
    for (name, _, _) in public_scalars() {
        writeln!(c, "\tS({name})").unwrap();
    }
    for l in public_layouts() {
        writeln!(c, "\tS({})", l.name).unwrap();
        for (f, _) in &l.fields {
            writeln!(c, "\tO({}, {f})", l.name).unwrap();
        }
    }
    c.push_str("\treturn 0;\n}\n");

    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let src = dir.join("public_layout.c");
    let exe = dir.join("public_layout");
    std::fs::write(&src, c).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "gcc".into());
    let st = Command::new(&cc)
        .args(["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(root.join("libdlibc-shim/include"))
        .arg("-I")
        .arg(root.join("native/include"))
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cc}: {e}"));
    assert!(st.success(), "{cc} failed on {}: {st}", src.display());
    let out = Command::new(&exe).output().expect("run public_layout");
    assert!(out.status.success(), "public_layout failed: {}", out.status);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

/// Every struct dios.h defines is mirrored, with the same fields at the same
/// offsets and of the same sizes, and dios-sys has no field C lacks.
#[test]
fn public_structs_match_abi_dump_both_ways() {
    let facts = common::abi_dump();
    let mut errs = Vec::new();
    let layouts = public_layouts();
    // dios-sys names a struct by its typedef (dios_ref_info_t), abi_dump by its tag
    let tag = |l: &Layout| l.name.strip_suffix("_t").unwrap_or(l.name).to_string();

    let c_structs: BTreeSet<&str> = facts.keys().filter_map(|k| k.strip_prefix("api.sizeof.")).collect();
    let rust_structs: BTreeSet<String> = layouts.iter().map(tag).collect();
    for st in &c_structs {
        if !rust_structs.contains(*st) {
            errs.push(format!("struct {st}: in dios.h, not in dios-sys"));
        }
    }
    for st in &rust_structs {
        if !c_structs.contains(st.as_str()) {
            errs.push(format!("struct {st}: in dios-sys, not in dios.h"));
        }
    }

    for l in &layouts {
        let st = tag(l);
        if !c_structs.contains(st.as_str()) {
            continue;
        }
        match common::num(&format!("api.sizeof.{st}")) {
            Some(c) if c == l.size as u128 => {}
            c => errs.push(format!("sizeof {st}: C {c:?}, Rust {}", l.size)),
        }
        let prefix = format!("api.offsetof.{st}.");
        let c_fields: BTreeSet<&str> = facts.keys().filter_map(|k| k.strip_prefix(prefix.as_str())).collect();
        let rust_fields: BTreeSet<&str> = l.fields.iter().map(|f| f.0).collect();
        for missing in c_fields.difference(&rust_fields) {
            errs.push(format!("{st}.{missing}: in C, not in dios-sys"));
        }
        for extra in rust_fields.difference(&c_fields) {
            errs.push(format!("{st}.{extra}: in dios-sys, not in C"));
        }
        for &(f, off) in &l.fields {
            if let Some(c) = common::num(&format!("{prefix}{f}")) {
                if c != off as u128 {
                    errs.push(format!("offsetof {st}.{f}: C {c}, Rust {off}"));
                }
            }
        }
        for (&(f, _), &size) in l.fields.iter().zip(&l.field_sizes) {
            if let Some(c) = common::num(&format!("api.fieldsize.{st}.{f}")) {
                if c != size as u128 {
                    errs.push(format!("sizeof {st}.{f}: C {c}, Rust {size}"));
                }
            }
        }
    }
    assert!(errs.is_empty(), "public struct mismatches with dios.h:\n  {}", errs.join("\n  "));
}

#[test]
fn public_structs_match_gcc() {
    let c = c_public_facts();
    let mut errs = Vec::new();
    let mut check = |key: String, rust: usize| match c.get(&key) {
        Some(&v) if v == rust as u128 => {}
        v => errs.push(format!("{key}: C {v:?}, Rust {rust}")),
    };
    for (name, size, align) in public_scalars() {
        check(format!("sizeof.{name}"), size);
        check(format!("alignof.{name}"), align);
    }
    for l in public_layouts() {
        check(format!("sizeof.{}", l.name), l.size);
        check(format!("alignof.{}", l.name), l.align);
        for (f, off) in &l.fields {
            check(format!("offsetof.{}.{f}", l.name), *off);
        }
    }
    assert!(errs.is_empty(), "public layout mismatches:\n  {}", errs.join("\n  "));
}
