//! The exit statuses of a kiln command (as ruff's `ExitStatus`): low in the
//! house, so `cli`, `main.rs` and the Ctrl-C handler in `cancel` say the same
//! numbers without importing one another.

/// All succeeded.
pub const EXIT_OK: i32 = 0;
/// A node failed (a model, test, freshness check or operation).
pub const EXIT_FAILURE: i32 = 1;
/// The project or command is wrong.
pub const EXIT_ERROR: i32 = 2;
/// Ctrl-C stopped the run (128 + SIGINT, as shells report it).
pub const EXIT_CANCELLED: i32 = 130;
