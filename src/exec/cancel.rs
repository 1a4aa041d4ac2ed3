//! Ctrl-C. The first one asks the run to stop: no new node starts, the
//! statements in flight are interrupted (DuckDB's interrupt, PostgreSQL's
//! cancel request) so their transactions roll back, and kiln exits 130. A
//! second Ctrl-C exits at once.

use std::sync::atomic::{AtomicBool, Ordering};

static CANCELLED: AtomicBool = AtomicBool::new(false);

/// Installs the handler (once; later calls do nothing).
pub fn install_handler() {
    let _ = ctrlc::set_handler(|| {
        if CANCELLED.swap(true, Ordering::SeqCst) {
            std::process::exit(crate::cli::EXIT_CANCELLED);
        }
    });
}

/// Whether Ctrl-C was pressed.
pub fn cancelled() -> bool {
    CANCELLED.load(Ordering::SeqCst)
}
