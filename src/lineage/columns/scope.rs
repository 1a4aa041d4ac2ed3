//! Scopes: the relations a `SELECT` reads, and the levels of nesting a
//! name is looked up through (CTEs, outer queries).

use super::ColumnSource;
use super::names::{same, tail_match};
use super::shape::Shape;
use sqlparser::ast::NamedWindowDefinition;
use std::rc::Rc;

#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) alias: Option<String>,
    /// The relation's name parts as written (catalog relation or CTE); empty
    /// for subqueries and table functions.
    pub(super) table: Vec<String>,
    pub(super) shape: Rc<Shape>,
    /// Part of `*` (not the right side of a semi or anti join).
    pub(super) in_star: bool,
}

impl Entry {
    pub(super) fn label(&self) -> Vec<String> {
        if !self.table.is_empty() {
            self.table.clone()
        } else {
            self.alias.iter().cloned().collect()
        }
    }

    /// The qualifier certainly names this entry: its alias, or the trailing
    /// parts of its (unaliased) name.
    pub(super) fn matches_qualifier(&self, qualifier: &[String]) -> bool {
        match &self.alias {
            Some(alias) => qualifier.len() == 1 && same(alias, &qualifier[0]),
            None => qualifier.len() <= self.table.len() && tail_match(&self.table, qualifier),
        }
    }

    /// The qualifier may name this entry (the table name of an aliased
    /// entry, or a longer name than the one written in `FROM`): good enough
    /// for lineage, not for an error.
    pub(super) fn may_match_qualifier(&self, qualifier: &[String]) -> bool {
        tail_match(&self.table, qualifier)
    }
}

#[derive(Debug, Clone, Default)]
pub(super) struct Scope {
    pub(super) entries: Vec<Entry>,
    /// Columns joined with `USING`: one column of several relations.
    pub(super) using: Vec<String>,
    pub(super) natural: bool,
}

pub(super) enum Found {
    /// The entry, and whether the qualifier certainly names it.
    One(usize, bool),
    Several,
    None,
}

impl Scope {
    pub(super) fn find(&self, qualifier: &[String]) -> Found {
        for (matcher, certain) in [
            (
                Entry::matches_qualifier as fn(&Entry, &[String]) -> bool,
                true,
            ),
            (Entry::may_match_qualifier, false),
        ] {
            let mut hits = self
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| matcher(e, qualifier))
                .map(|(i, _)| i);
            match (hits.next(), hits.next()) {
                (Some(i), None) => return Found::One(i, certain),
                (Some(_), Some(_)) => return Found::Several,
                _ => {}
            }
        }
        Found::None
    }
}

pub(super) type Ctes = Vec<(String, Rc<Shape>)>;

/// Where names in an expression are resolved: one SELECT's scope, and the
/// enclosing ones for correlated references.
pub(super) struct Level<'a> {
    pub(super) scope: &'a Scope,
    /// Select-list aliases defined so far, with their sources.
    pub(super) aliases: &'a [(String, Vec<ColumnSource>)],
    /// All select-list aliases (never flagged wherever they are used).
    pub(super) alias_names: &'a [String],
    pub(super) windows: &'a [NamedWindowDefinition],
    pub(super) ctes: &'a Ctes,
    pub(super) parent: Option<&'a Level<'a>>,
}

impl<'a> Level<'a> {
    pub(super) fn bare(scope: &'a Scope, ctes: &'a Ctes, parent: Option<&'a Level<'a>>) -> Self {
        Level {
            scope,
            aliases: &[],
            alias_names: &[],
            windows: &[],
            ctes,
            parent,
        }
    }
}
