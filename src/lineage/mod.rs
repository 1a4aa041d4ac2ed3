//! Column lineage: how models' columns derive from their upstreams' columns.
//! `columns` traces one query's SQL, `project` a whole project's in graph
//! order, `export` writes the graph and its columns as dot, mermaid or JSON.
//! The SQL check that uses it before a run is [`crate::check`].

pub mod columns;
pub mod export;
pub mod project;
