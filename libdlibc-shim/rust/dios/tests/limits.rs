//! A per-task limit's error says which limit (alone in its own test binary:
//! it fills this task's reference table, which other tests would trip over).

use dios::{Memory, MemoryKind, Naming};
use dios_sys::DIOS_ENOMEM;

#[test]
fn enomem_names_the_limit_in_its_message() {
    let mut held = Vec::new();
    let err = loop {
        match Memory::create(MemoryKind::Shared, 4096, Naming::Anonymous) {
            Ok(m) => held.push(m),
            Err(e) => break e,
        }
        assert!(held.len() <= 1 << 20, "no limit after {} references", held.len());
    };
    assert_eq!(dios::errno_of(&err), Some(DIOS_ENOMEM), "{err}");
    assert_eq!(err.kind(), std::io::ErrorKind::OutOfMemory, "{err}");
    let text = err.to_string();
    assert!(text.contains("--max-refs"), "{text}");
    // the limit's value: the references held, plus this task's own
    assert!(text.contains(&format!("({})", held.len() + 1)), "{text}");
    let d = err.get_ref().and_then(|e| e.downcast_ref::<dios::Detailed>()).expect("a Detailed error");
    assert_eq!(d.errno, DIOS_ENOMEM);
    drop(held);
    // room again
    Memory::create(MemoryKind::Shared, 4096, Naming::Anonymous).unwrap();
}
