//! Jinja with dbt's context, on minijinja: one environment per command with
//! every model and macro file compiled once, kiln's built-in macros from
//! `templates/`, and the per-node functions of `context`.

pub mod agate;
pub mod api;
pub mod builtins;
pub mod context;
pub mod environment;
pub mod generic_test;
pub mod macros;
pub mod python_compat;
pub mod relation;
pub mod render;

pub use crate::jinja_base::{functions, json_value};

pub use environment::JinjaEnv;

/// The package name of kiln's built-in macros (dbt calls its own `dbt`).
pub const BUILTIN_PACKAGE: &str = "dbt";
/// Template names of built-in files start with this.
pub const BUILTIN_PREFIX: &str = "kiln://";
