//! Lineage: how models' columns derive from their upstreams' columns.

pub mod columns;
pub mod export;
pub mod project;
