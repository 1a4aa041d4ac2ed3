//! The tracer on expressions: their sources, the resolution of a column
//! reference through the scopes, and the flagging of unknown columns.

use super::names::{is_niladic, merge_sources, norm, same, transformed};
use super::refs::{Refs, strip_nested};
use super::scope::{Entry, Found, Level};
use super::shape::Lookup;
use super::tracer::{Resolved, Tracer, named_window_exprs};
use super::{ColumnSource, UnknownColumn};
use crate::adapter::UnnamedColumn;
use sqlparser::ast::{AccessExpr, Expr, Ident};

impl Tracer<'_> {
    /// The sources of an expression, checking its references on the way; and
    /// whether it is a DuckDB `COLUMNS(...)` star.
    pub(super) fn expr(&mut self, expr: &Expr, level: &Level) -> (Vec<ColumnSource>, bool) {
        let refs = Refs::of(expr);
        let mut exact = matches!(
            strip_nested(expr),
            Expr::Identifier(_) | Expr::CompoundIdentifier(_)
        );
        let mut sources = Vec::new();
        for reference in &refs.columns {
            if let Some(resolved) = self.resolve(reference, level) {
                exact &= resolved.exact;
                merge_sources(&mut sources, resolved.sources);
            }
        }
        if !refs.windows.is_empty() {
            exact = false;
            let window_exprs = named_window_exprs(level.windows, &refs.windows);
            for window_expr in window_exprs {
                let (more, _) = self.expr(window_expr, level);
                merge_sources(&mut sources, more);
            }
        }
        for subquery in &refs.subqueries {
            exact = false;
            let shape = self.query(subquery, level.ctes, Some(level));
            for col in shape.cols() {
                merge_sources(&mut sources, col.sources.clone());
            }
        }
        if !exact {
            sources = transformed(sources);
        }
        (sources, refs.columns_star)
    }

    pub(super) fn resolve(&mut self, idents: &[Ident], level: &Level) -> Option<Resolved> {
        let names: Vec<String> = idents.iter().map(norm).collect();
        if idents.len() == 1 {
            return self.resolve_unqualified(&idents[0], level, true);
        }
        // `q.col`, `schema.table.col`, or `alias.struct_col.field`: the
        // longest qualifier naming a relation wins.
        for k in (1..idents.len()).rev() {
            let qualifier = &names[..k];
            let mut current = Some(level);
            while let Some(lvl) = current {
                match lvl.scope.find(qualifier) {
                    Found::One(index, certain) => {
                        let entry = &lvl.scope.entries[index];
                        return match entry.shape.lookup(&names[k]) {
                            Lookup::Known(sources) | Lookup::Deduced(sources) => Some(Resolved {
                                sources,
                                exact: k == idents.len() - 1,
                            }),
                            Lookup::Missing => {
                                if certain && !is_niladic(&names[k]) {
                                    self.flag(entry, &idents[k], &idents[0]);
                                }
                                None
                            }
                            Lookup::Unknown => None,
                        };
                    }
                    Found::Several => return None,
                    Found::None => current = lvl.parent,
                }
            }
        }
        // A field of a struct column: `col.field`.
        self.resolve_unqualified(&idents[0], level, false)
            .map(|resolved| Resolved {
                sources: resolved.sources,
                exact: false,
            })
    }

    pub(super) fn resolve_unqualified(
        &mut self,
        ident: &Ident,
        level: &Level,
        check: bool,
    ) -> Option<Resolved> {
        let name = norm(ident);
        let exact = |sources| {
            Some(Resolved {
                sources,
                exact: true,
            })
        };
        let mut current = Some(level);
        while let Some(lvl) = current {
            let scope = lvl.scope;
            let lookups: Vec<Lookup> = scope
                .entries
                .iter()
                .map(|e| e.shape.lookup(&name))
                .collect();
            let mut known: Vec<Vec<ColumnSource>> = Vec::new();
            let mut undecided: Vec<Option<Vec<ColumnSource>>> = Vec::new();
            for lookup in lookups {
                match lookup {
                    Lookup::Known(s) => known.push(s),
                    Lookup::Deduced(s) => undecided.push(Some(s)),
                    Lookup::Unknown => undecided.push(None),
                    Lookup::Missing => {}
                }
            }
            let shared = scope.natural || scope.using.iter().any(|u| same(u, &name));
            if shared && known.len() + undecided.len() > 1 {
                let mut sources = Vec::new();
                for s in known.into_iter().chain(undecided.into_iter().flatten()) {
                    merge_sources(&mut sources, s);
                }
                return exact(sources);
            }
            match known.len() {
                1 => return exact(known.pop().unwrap_or_default()),
                0 => {}
                _ => return None,
            }
            match undecided.len() {
                0 => {}
                1 => return undecided.pop().flatten().and_then(exact),
                _ => return None,
            }
            // No relation here has it: a select-list alias, a whole row, or a
            // name from an enclosing query.
            if let Some((_, sources)) = lvl.aliases.iter().rev().find(|(a, _)| same(a, &name)) {
                return exact(sources.clone());
            }
            if lvl.alias_names.iter().any(|a| same(a, &name)) {
                return None;
            }
            if let Some(entry) = scope
                .entries
                .iter()
                .find(|e| e.matches_qualifier(std::slice::from_ref(&name)))
            {
                let mut sources = Vec::new();
                for col in entry.shape.cols() {
                    merge_sources(&mut sources, col.sources.clone());
                }
                return Some(Resolved {
                    sources,
                    exact: false,
                });
            }
            current = lvl.parent;
        }
        if check && level.scope.entries.len() == 1 && !is_niladic(&name) {
            let entry = &level.scope.entries[0];
            self.flag(entry, ident, ident);
        }
        None
    }

    pub(super) fn flag(&mut self, entry: &Entry, column: &Ident, start: &Ident) {
        let at = start.span.start;
        self.unknown.push(UnknownColumn {
            relation: entry.label(),
            column: column.value.clone(),
            line: at.line,
            column_number: at.column,
        });
    }

    /// The name the database gives an unaliased expression, approximately:
    /// a column reference is named after the column, anything else as the
    /// adapter says ([`crate::adapter::AdapterKind::unnamed_column`]).
    pub(super) fn expr_name(&self, expr: &Expr) -> String {
        match strip_nested(expr) {
            Expr::Identifier(ident) => return norm(ident),
            Expr::CompoundIdentifier(idents) => {
                if let Some(last) = idents.last() {
                    return norm(last);
                }
            }
            Expr::CompoundFieldAccess { access_chain, .. } => {
                if let Some(AccessExpr::Dot(Expr::Identifier(field))) = access_chain.last() {
                    return norm(field);
                }
            }
            _ => {}
        }
        match self.kind.unnamed_column(expr) {
            UnnamedColumn::Named(name) => name,
            UnnamedColumn::ColumnOf(column) => self.expr_name(column),
        }
    }
}
