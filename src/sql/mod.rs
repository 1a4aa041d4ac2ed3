//! SQL-level facts: relations and their rendering.

pub mod relation;

pub use relation::{Relation, RelationType};
