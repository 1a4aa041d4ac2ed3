//! The per-node part of dbt's Jinja context: `ref`, `source`, `config`, `var`,
//! `this`, `target`, `model`, `adapter`, `statement`, `load_result`,
//! `run_query`, `execute`, `is_incremental`.
//!
//! While parsing, `ref`/`source`/`config` calls are recorded, not resolved, and
//! nothing touches a database. While compiling, `ref` and `source` resolve to
//! relations. While executing, `statement` and `run_query` run SQL on the
//! worker's connection.
//!
//! - `scope`: one node's render state, its phase and the run's flags;
//! - `resolve`: `ref()` and `source()`, and the [`Resolver`] they resolve by;
//! - `config`: `config()` and `var()`, with the [`Vars`];
//! - `adapter`: the `adapter` object, and the [`introspection`] watcher;
//! - `statement`: `statement`, `load_result` and `run_query`;
//! - `node`: the [`NodeContext`] that builds a node's context from them;
//! - `overrides`: a unit test's macros, vars and env vars over that context.

mod adapter;
mod config;
mod node;
mod overrides;
mod resolve;
mod scope;
mod statement;

pub use adapter::introspection;
pub use config::Vars;
pub use node::{NodeContext, set_which};
pub use overrides::with_overrides;
pub use resolve::{EphemeralSql, RefTarget, Resolver};
pub use scope::{Phase, RefCall, RenderScope, RunFlags, SeedData};

use std::sync::Mutex;

use minijinja::value::{Kwargs, Value};
use minijinja::{Error, ErrorKind};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

fn split_kwargs(args: &[Value]) -> (&[Value], Option<Kwargs>) {
    match args.last().cloned().map(Kwargs::try_from) {
        Some(Ok(kwargs)) => (&args[..args.len() - 1], Some(kwargs)),
        _ => (args, None),
    }
}
