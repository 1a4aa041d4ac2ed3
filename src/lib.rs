//! kiln: dbt projects built fast. The stages, in the order data flows:
//! `project` (load) → `parse` → `graph` → `compile` → `exec` (with
//! `materialize` and `adapter`) → `artifacts`.

pub(crate) mod adapter;
pub(crate) mod artifacts;
pub(crate) mod cancel;
pub(crate) mod check;
pub mod cli;
pub mod compile;
pub(crate) mod config;
pub(crate) mod contract;
pub mod diagnostic;
pub(crate) mod digest;
pub(crate) mod error;
pub(crate) mod exec;
pub(crate) mod exit_status;
pub(crate) mod file_name;
pub(crate) mod files;
pub(crate) mod freshness;
pub mod graph;
pub(crate) mod jinja;
pub(crate) mod jinja_base;
pub(crate) mod lineage;
pub mod lock;
pub mod materialize;
pub(crate) mod packages;
pub mod parse;
pub mod project;
pub mod secrets;
pub(crate) mod sql;

pub use error::{Error, Result};

#[cfg(test)]
mod insta_tests;
