//! Ctrl-C.
//!
//! Until a command starts work on the database (parse, compile, reading the
//! catalog), there is nothing to protect: the first Ctrl-C exits 130 at
//! once, however long a Jinja loop would have run.
//!
//! Once it has (`protect_database_work`), the first Ctrl-C asks the run to
//! stop: the statements in flight on every connection are interrupted
//! (DuckDB's interrupt, PostgreSQL's cancel request) so their transactions
//! roll back, every later statement, seed batch and commit is refused, no
//! new node starts, and kiln exits 130 after writing run_results.json. A
//! second Ctrl-C exits at once.
//!
//! This module holds the flag and the statements in flight; the connection
//! wrapper that consults them is `adapter::cancellable`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::exit_status::EXIT_CANCELLED;

/// Stops the statement a connection is running, from another thread.
pub type Interrupter = Arc<dyn Fn() + Send + Sync>;

static CANCELLED: AtomicBool = AtomicBool::new(false);
/// Whether work on the database has started: Ctrl-C then stops it cleanly.
static PROTECTING: AtomicBool = AtomicBool::new(false);

/// The statements running now, each with what interrupts it.
static IN_FLIGHT: Mutex<Vec<(u64, Interrupter)>> = Mutex::new(Vec::new());
static NEXT_STATEMENT: AtomicU64 = AtomicU64::new(0);

/// What the statement (or commit) refused after Ctrl-C says.
pub const CANCELLED_MESSAGE: &str = "cancelled (Ctrl-C): not run, the transaction is rolled back";

/// Installs the handler (once; later calls do nothing). `notify` prints a
/// line for the user.
pub fn install_handler(notify: fn(&str)) {
    let _ = ctrlc::set_handler(move || {
        if CANCELLED.swap(true, Ordering::SeqCst) || !PROTECTING.load(Ordering::SeqCst) {
            if !PROTECTING.load(Ordering::SeqCst) {
                notify("Cancelled (Ctrl-C): nothing was run.");
            }
            std::process::exit(EXIT_CANCELLED);
        }
        notify(
            "Ctrl-C: stopping; running statements are rolled back (press Ctrl-C again to exit now)",
        );
        interrupt_in_flight();
    });
}

/// From now on, Ctrl-C stops the run cleanly instead of exiting at once.
pub fn protect_database_work() {
    PROTECTING.store(true, Ordering::SeqCst);
}

/// Whether Ctrl-C was pressed.
pub fn cancelled() -> bool {
    CANCELLED.load(Ordering::SeqCst)
}

fn in_flight() -> std::sync::MutexGuard<'static, Vec<(u64, Interrupter)>> {
    IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner())
}

/// Interrupts every statement running now.
fn interrupt_in_flight() {
    // Copied out: a cancel request opens a connection, and statements must
    // be able to finish (and deregister) meanwhile.
    let interrupters: Vec<Interrupter> = in_flight().iter().map(|(_, i)| i.clone()).collect();
    for interrupt in interrupters {
        interrupt();
    }
}

/// A statement registered as in flight until this is dropped.
pub struct Registered(Option<u64>);

impl Drop for Registered {
    fn drop(&mut self) {
        if let Some(id) = self.0 {
            in_flight().retain(|(i, _)| *i != id);
        }
    }
}

/// Registers a statement that `interrupter` stops (if there is one) as in
/// flight: a Ctrl-C until the guard drops interrupts it.
pub fn register(interrupter: Option<&Interrupter>) -> Registered {
    Registered(interrupter.map(|interrupter| {
        let id = NEXT_STATEMENT.fetch_add(1, Ordering::SeqCst);
        in_flight().push((id, interrupter.clone()));
        id
    }))
}
