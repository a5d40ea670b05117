//! Panics print their message through the DIOS console (seed section 4.1.2).

use std::io::Write;
use std::panic;
use std::sync::{Mutex, Once};
use std::thread;

use crate::objects::Console;

static HOOK: Once = Once::new();
/// Set in a task started at an entry function: how its panics name it.
static TASK_LABEL: Mutex<Option<String>> = Mutex::new(None);

/// Sends this program's panic messages to the DIOS console.
///
/// A panic then writes `thread 'NAME' panicked at FILE:LINE:COL:` and its
/// message through the console object: to the terminal the task was started
/// from; without one, a spawned task's to the stderr it inherited (as a Unix
/// child's), any other's into the daemon's log tagged with the task
/// (`task N (pid P) console: ...`).  If the console cannot be reached (no
/// daemon), the message goes to stderr as Rust's default hook writes it.
/// Idempotent.
///
/// Tasks started at an entry function ([`spawn_task`](crate::spawn_task))
/// have it installed before the entry runs.  A program's own `main` calls it
/// to have its panics on the console too; a test harness had better not
/// (libtest shows a failed test's message from the default hook).
pub fn init() {
    install();
}

/// Installs the hook in a task started at an entry, which its panics name
/// as `label` (changed later by another call).
pub(crate) fn install_for_task(label: String) {
    *TASK_LABEL.lock().unwrap_or_else(|p| p.into_inner()) = Some(label);
    install();
}

fn install() {
    HOOK.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let msg = if let Some(s) = payload.downcast_ref::<&str>() {
                s
            } else if let Some(s) = payload.downcast_ref::<String>() {
                s.as_str()
            } else {
                "Box<dyn Any>"
            };
            let loc = match info.location() {
                Some(l) => format!("{}:{}:{}", l.file(), l.line(), l.column()),
                None => "an unknown place".to_string(),
            };
            let label = TASK_LABEL.lock().map(|l| l.clone()).unwrap_or(None);
            let who = match label {
                Some(l) => l,
                None => match thread::current().name() {
                    Some(n) => format!("thread '{n}'"),
                    None => "thread '<unnamed>'".to_string(),
                },
            };
            let text = format!("{who} panicked at {loc}:\n{msg}\n");
            let sent = Console::open().and_then(|c| (&c).write_all(text.as_bytes()));
            if sent.is_err() {
                default(info);
            }
        }));
    });
}
