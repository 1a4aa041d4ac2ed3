//! kiln's integration tests, as one test binary (`cargo test` builds and
//! links it once, so libduckdb is linked once, not once per file).
//!
//! Each module was a test file of its own; they share `common` (fixture
//! projects, the `kiln` binary run against them, the database read back).
//! Fixture projects stay in `tests/fixtures/` and `tests/broken/`, found
//! from `CARGO_MANIFEST_DIR`; insta's snapshots are in `tests/it/snapshots/`,
//! named after the module path (`it__diagnostics__bad_csv.snap`).
//!
//! One module's tests: `cargo test --test it diagnostics::`.

mod common;

mod access;
mod after_build;
mod cancel;
mod commands;
mod compat_codegen;
mod compat_leniency;
mod compat_packages;
mod compat_postgres;
mod compat_projects;
mod compat_runtime;
mod compile_once;
mod contracts;
mod cross_database;
mod data_tests;
mod dbt_utils;
mod diagnostics;
mod duckdb_external;
mod empty;
mod errors;
mod example_project;
mod freshness;
mod fuzz_regressions;
mod graph_context;
mod hooks_and_operations;
mod hostile_exec;
mod hostile_input;
mod incremental;
mod lineage;
mod materializations;
mod microbatch;
mod packages;
mod partial_parse;
mod postgres;
mod query_comment;
mod seed_loads;
mod selection;
mod semantic_layer;
mod snapshot_models;
mod state;
mod unit_tests;
mod versions;
