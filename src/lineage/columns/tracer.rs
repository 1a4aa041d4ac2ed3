//! The tracer: the walk over a query, its set operations and `SELECT`s,
//! building the shape of each. `FROM`, `*` and name resolution are in
//! their own modules, as more `impl Tracer` blocks.

use super::from::opaque_entry;
use super::names::{norm, object_name, same};
use super::refs::strip_nested;
use super::scope::{Ctes, Found, Level};
use super::shape::{Col, Item, Shape};
use super::star::{exclude_items, exclude_names, mark_duplicates};
use super::{Catalog, ColumnSource, UnknownColumn};
use crate::adapter::AdapterKind;
use sqlparser::ast::{
    Expr, NamedWindowDefinition, NamedWindowExpr, OrderBy, OrderByKind, Query, Select,
    SelectFlavor, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, SetOperator, SetQuantifier,
};
use std::rc::Rc;

pub(super) struct Tracer<'c> {
    pub(super) catalog: &'c dyn Catalog,
    /// The database whose rules name an unaliased expression.
    pub(super) kind: AdapterKind,
    pub(super) unknown: Vec<UnknownColumn>,
}

/// A resolved column reference.
pub(super) struct Resolved {
    pub(super) sources: Vec<ColumnSource>,
    /// The reference is the column itself (not a struct field or whole row).
    pub(super) exact: bool,
}

impl Tracer<'_> {
    pub(super) fn query(&mut self, query: &Query, ctes: &Ctes, outer: Option<&Level>) -> Shape {
        let mut local;
        let ctes = match &query.with {
            Some(with) => {
                local = ctes.clone();
                for cte in &with.cte_tables {
                    let name = norm(&cte.alias.name);
                    if with.recursive {
                        local.push((name.clone(), Rc::new(Shape::opaque())));
                    }
                    let shape = self
                        .query(&cte.query, &local, outer)
                        .renamed(Some(&cte.alias));
                    if with.recursive {
                        local.pop();
                    }
                    local.push((name, Rc::new(shape)));
                }
                &local
            }
            None => ctes,
        };
        self.set_expr(&query.body, ctes, outer, query.order_by.as_ref())
    }

    pub(super) fn set_expr(
        &mut self,
        body: &SetExpr,
        ctes: &Ctes,
        outer: Option<&Level>,
        order_by: Option<&OrderBy>,
    ) -> Shape {
        match body {
            SetExpr::Select(select) => self.select(select, ctes, outer, order_by),
            SetExpr::Query(query) => self.query(query, ctes, outer),
            SetExpr::SetOperation {
                left,
                op,
                set_quantifier,
                right,
            } => {
                let left = self.set_expr(left, ctes, outer, None);
                let right = self.set_expr(right, ctes, outer, None);
                let by_name = matches!(
                    set_quantifier,
                    SetQuantifier::ByName
                        | SetQuantifier::AllByName
                        | SetQuantifier::DistinctByName
                );
                Shape::combine(left, right, matches!(op, SetOperator::Union), by_name)
            }
            _ => Shape::opaque(),
        }
    }

    pub(super) fn select(
        &mut self,
        select: &Select,
        ctes: &Ctes,
        outer: Option<&Level>,
        order_by: Option<&OrderBy>,
    ) -> Shape {
        let mut scope = self.from(&select.from, ctes, outer);
        if !select.lateral_views.is_empty() {
            scope.entries.push(opaque_entry(None));
        }
        let alias_names: Vec<String> = select
            .projection
            .iter()
            .flat_map(|item| match item {
                SelectItem::ExprWithAlias { alias, .. } => vec![norm(alias)],
                SelectItem::ExprWithAliases { aliases, .. } => aliases.iter().map(norm).collect(),
                _ => Vec::new(),
            })
            .collect();
        let mut aliases: Vec<(String, Vec<ColumnSource>)> = Vec::new();
        let mut items: Vec<Item> = Vec::new();
        if select.projection.is_empty() && matches!(select.flavor, SelectFlavor::FromFirstNoSelect)
        {
            items.extend(self.star(&scope, None));
        }
        for item in &select.projection {
            let level = Level {
                scope: &scope,
                aliases: &aliases,
                alias_names: &alias_names,
                windows: &select.named_window,
                ctes,
                parent: outer,
            };
            match item {
                SelectItem::UnnamedExpr(expr) => {
                    let (sources, star) = self.expr(expr, &level);
                    if star {
                        items.extend(Shape::opaque().items);
                    } else {
                        let bare = matches!(
                            strip_nested(expr),
                            Expr::Identifier(_) | Expr::CompoundIdentifier(_)
                        );
                        items.push(Item::Col(Col {
                            name: self.expr_name(expr),
                            sources,
                            guessed: !bare,
                        }));
                    }
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let (sources, _) = self.expr(expr, &level);
                    let name = norm(alias);
                    aliases.push((name.clone(), sources.clone()));
                    items.push(Item::Col(Col::new(name, sources)));
                }
                SelectItem::ExprWithAliases {
                    expr,
                    aliases: names,
                } => {
                    let (sources, _) = self.expr(expr, &level);
                    for alias in names {
                        let name = norm(alias);
                        aliases.push((name.clone(), sources.clone()));
                        items.push(Item::Col(Col::new(name, sources.clone())));
                    }
                }
                SelectItem::Wildcard(options) => {
                    let expanded = self.star(&scope, None);
                    items.extend(self.star_options(expanded, options, &level));
                }
                SelectItem::QualifiedWildcard(kind, options) => {
                    let expanded = match kind {
                        SelectItemQualifiedWildcardKind::ObjectName(name) => {
                            match object_name(name).map(|q| scope.find(&q)) {
                                Some(Found::One(index, _)) => self.star(&scope, Some(index)),
                                _ => Shape::opaque().items,
                            }
                        }
                        SelectItemQualifiedWildcardKind::Expr(_) => Shape::opaque().items,
                    };
                    items.extend(self.star_options(expanded, options, &level));
                }
            }
        }
        if let Some(exclude) = &select.exclude {
            items = exclude_items(items, &exclude_names(exclude));
        }
        mark_duplicates(&mut items);

        // The other clauses: checked, not traced.
        let level = Level {
            scope: &scope,
            aliases: &aliases,
            alias_names: &alias_names,
            windows: &select.named_window,
            ctes,
            parent: outer,
        };
        let mut checked: Vec<&Expr> = Vec::new();
        checked.extend(select.prewhere.as_ref());
        checked.extend(select.selection.as_ref());
        checked.extend(select.having.as_ref());
        checked.extend(select.qualify.as_ref());
        if let sqlparser::ast::GroupByExpr::Expressions(exprs, _) = &select.group_by {
            checked.extend(exprs);
        }
        if let Some(sqlparser::ast::Distinct::On(exprs)) = &select.distinct {
            checked.extend(exprs);
        }
        checked.extend(&select.cluster_by);
        checked.extend(&select.distribute_by);
        checked.extend(select.sort_by.iter().map(|o| &o.expr));
        for NamedWindowDefinition(_, window) in &select.named_window {
            if let NamedWindowExpr::WindowSpec(spec) = window {
                checked.extend(&spec.partition_by);
                checked.extend(spec.order_by.iter().map(|o| &o.expr));
            }
        }
        if let Some(OrderBy {
            kind: OrderByKind::Expressions(exprs),
            ..
        }) = order_by
        {
            checked.extend(exprs.iter().map(|o| &o.expr));
        }
        for expr in checked {
            self.expr(expr, &level);
        }
        Shape { items }
    }
}

/// The partition and order expressions of the named windows `names` refers
/// to, following windows defined over other windows.
pub(super) fn named_window_exprs<'w>(
    windows: &'w [NamedWindowDefinition],
    names: &[String],
) -> Vec<&'w Expr> {
    let mut exprs = Vec::new();
    let mut todo: Vec<String> = names.to_vec();
    let mut done: Vec<String> = Vec::new();
    while let Some(name) = todo.pop() {
        if done.iter().any(|d| same(d, &name)) {
            continue;
        }
        done.push(name.clone());
        let Some(NamedWindowDefinition(_, window)) = windows
            .iter()
            .find(|NamedWindowDefinition(n, _)| same(&norm(n), &name))
        else {
            continue;
        };
        match window {
            NamedWindowExpr::NamedWindow(other) => todo.push(norm(other)),
            NamedWindowExpr::WindowSpec(spec) => {
                exprs.extend(&spec.partition_by);
                exprs.extend(spec.order_by.iter().map(|o| &o.expr));
                if let Some(base) = &spec.window_name {
                    todo.push(norm(base));
                }
            }
        }
    }
    exprs
}
