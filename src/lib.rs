//! kiln: dbt projects built fast. The stages, in the order data flows:
//! `project` (load) → `parse` → `graph` → `compile` → `exec` (with
//! `materialize` and `adapter`) → `artifacts`.

pub mod adapter;
pub mod artifacts;
pub mod cancel;
pub mod check;
pub mod cli;
pub mod compile;
pub mod config;
pub mod diagnostic;
pub mod error;
pub mod exec;
pub mod exit_status;
pub mod file_name;
pub mod files;
pub mod freshness;
pub mod graph;
pub mod jinja;
pub mod jinja_base;
pub mod lineage;
pub mod lock;
pub mod materialize;
pub mod packages;
pub mod parse;
pub mod project;
pub mod secrets;
pub mod sql;

pub use error::{Error, Result};

#[cfg(test)]
mod insta_tests;
