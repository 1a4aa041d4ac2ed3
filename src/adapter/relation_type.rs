//! What a relation in the database is (table, view, ...): what the catalog
//! reports and the cache holds. `crate::sql` re-exports it beside `Relation`.

/// A relation's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelationType {
    Table,
    View,
    Cte,
    External,
    /// PostgreSQL's `materialized view`.
    MaterializedView,
}

impl RelationType {
    pub fn parse(name: &str) -> Option<RelationType> {
        match name.to_ascii_lowercase().as_str() {
            "table" | "base table" => Some(RelationType::Table),
            "view" => Some(RelationType::View),
            "cte" => Some(RelationType::Cte),
            "external" => Some(RelationType::External),
            "materialized_view" | "materialized view" => Some(RelationType::MaterializedView),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            RelationType::Table => "table",
            RelationType::View => "view",
            RelationType::Cte => "cte",
            RelationType::External => "external",
            RelationType::MaterializedView => "materialized_view",
        }
    }
}
