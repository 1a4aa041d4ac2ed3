//! The tracer on `FROM` clauses: joins and table factors, each made an
//! entry of the scope.

use super::names::{norm, object_name, same};
use super::scope::{Ctes, Entry, Level, Scope};
use super::shape::{Item, Open, Shape};
use super::tracer::Tracer;
use sqlparser::ast::{JoinConstraint, JoinOperator, TableAlias, TableFactor, TableWithJoins};
use std::rc::Rc;

impl Tracer<'_> {
    /// The relations of a FROM clause, in order.
    pub(super) fn from(
        &mut self,
        from: &[TableWithJoins],
        ctes: &Ctes,
        outer: Option<&Level>,
    ) -> Scope {
        let mut scope = Scope::default();
        for table in from {
            self.table_with_joins(table, &mut scope, ctes, outer);
        }
        scope
    }

    pub(super) fn table_with_joins(
        &mut self,
        table: &TableWithJoins,
        scope: &mut Scope,
        ctes: &Ctes,
        outer: Option<&Level>,
    ) {
        self.factor(&table.relation, scope, ctes, outer);
        for join in &table.joins {
            self.factor(&join.relation, scope, ctes, outer);
            let (constraint, condition) = match &join.join_operator {
                JoinOperator::Join(c)
                | JoinOperator::Inner(c)
                | JoinOperator::Left(c)
                | JoinOperator::LeftOuter(c)
                | JoinOperator::Right(c)
                | JoinOperator::RightOuter(c)
                | JoinOperator::FullOuter(c)
                | JoinOperator::CrossJoin(c)
                | JoinOperator::RightSemi(c)
                | JoinOperator::RightAnti(c)
                | JoinOperator::StraightJoin(c) => (Some(c), None),
                JoinOperator::Semi(c)
                | JoinOperator::LeftSemi(c)
                | JoinOperator::Anti(c)
                | JoinOperator::LeftAnti(c) => {
                    if let Some(last) = scope.entries.last_mut() {
                        last.in_star = false;
                    }
                    (Some(c), None)
                }
                JoinOperator::AsOf {
                    match_condition,
                    constraint,
                } => (Some(constraint), Some(match_condition)),
                _ => (None, None),
            };
            if let Some(condition) = condition {
                let level = Level::bare(scope, ctes, outer);
                self.expr(condition, &level);
            }
            match constraint {
                Some(JoinConstraint::On(condition)) => {
                    let level = Level::bare(scope, ctes, outer);
                    self.expr(condition, &level);
                }
                Some(JoinConstraint::Using(names)) => {
                    scope.using.extend(
                        names
                            .iter()
                            .filter_map(|n| n.0.last().and_then(|p| p.as_ident()).map(norm)),
                    );
                }
                Some(JoinConstraint::Natural) => scope.natural = true,
                Some(JoinConstraint::None) | None => {}
            }
        }
    }

    pub(super) fn factor(
        &mut self,
        factor: &TableFactor,
        scope: &mut Scope,
        ctes: &Ctes,
        outer: Option<&Level>,
    ) {
        let entry = match factor {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let parts = object_name(name);
                match parts {
                    Some(parts) if args.is_none() => {
                        let cte = match parts.as_slice() {
                            [single] => ctes.iter().rev().find(|(n, _)| same(n, single)),
                            _ => None,
                        };
                        let shape = match cte {
                            Some((_, shape)) => match alias {
                                Some(a) if !a.columns.is_empty() => {
                                    Rc::new((**shape).clone().renamed(Some(a)))
                                }
                                _ => Rc::clone(shape),
                            },
                            None => {
                                let shape = match self.catalog.columns(&parts) {
                                    Some(columns) if self.catalog.is_complete(&parts) => {
                                        Shape::known(&parts, columns)
                                    }
                                    Some(columns) => {
                                        let mut shape = Shape::known(&parts, columns.clone());
                                        shape.items.push(Item::Open(Open {
                                            origin: Some(parts.clone()),
                                            except: columns,
                                        }));
                                        shape
                                    }
                                    None => Shape::unknown_relation(&parts),
                                };
                                Rc::new(shape.renamed(alias.as_ref()))
                            }
                        };
                        Entry {
                            alias: alias.as_ref().map(|a| norm(&a.name)),
                            table: parts,
                            shape,
                            in_star: true,
                        }
                    }
                    _ => opaque_entry(alias.as_ref()),
                }
            }
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                // DuckDB reads FROM subqueries as lateral when they refer to
                // the relations before them: those are the outer scope.
                let before = scope.clone();
                let level = Level::bare(&before, ctes, outer);
                let shape = self.query(subquery, ctes, Some(&level));
                Entry {
                    alias: alias.as_ref().map(|a| norm(&a.name)),
                    table: Vec::new(),
                    shape: Rc::new(shape.renamed(alias.as_ref())),
                    in_star: true,
                }
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                let mut inner = Scope::default();
                self.table_with_joins(table_with_joins, &mut inner, ctes, outer);
                match alias {
                    None => {
                        scope.entries.extend(inner.entries);
                        scope.using.extend(inner.using);
                        scope.natural |= inner.natural;
                        return;
                    }
                    Some(alias) => {
                        let shape = Shape {
                            items: self.star(&inner, None),
                        };
                        Entry {
                            alias: Some(norm(&alias.name)),
                            table: Vec::new(),
                            shape: Rc::new(shape.renamed(Some(alias))),
                            in_star: true,
                        }
                    }
                }
            }
            other => opaque_entry(factor_alias(other)),
        };
        scope.entries.push(entry);
    }
}

pub(super) fn opaque_entry(alias: Option<&TableAlias>) -> Entry {
    Entry {
        alias: alias.map(|a| norm(&a.name)),
        table: Vec::new(),
        shape: Rc::new(Shape::opaque().renamed(alias)),
        in_star: true,
    }
}

pub(super) fn factor_alias(factor: &TableFactor) -> Option<&TableAlias> {
    match factor {
        TableFactor::Table { alias, .. }
        | TableFactor::Derived { alias, .. }
        | TableFactor::TableFunction { alias, .. }
        | TableFactor::Function { alias, .. }
        | TableFactor::UNNEST { alias, .. }
        | TableFactor::JsonTable { alias, .. }
        | TableFactor::OpenJsonTable { alias, .. }
        | TableFactor::NestedJoin { alias, .. }
        | TableFactor::Pivot { alias, .. }
        | TableFactor::Unpivot { alias, .. }
        | TableFactor::MatchRecognize { alias, .. }
        | TableFactor::XmlTable { alias, .. }
        | TableFactor::SemanticView { alias, .. } => alias.as_ref(),
        _ => None,
    }
}
