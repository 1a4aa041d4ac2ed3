//! The visitor collecting the column references of an expression.

use sqlparser::ast::Visit;

use super::names::{norm, same};
use sqlparser::ast::{
    AccessExpr, Expr, FunctionArg, FunctionArguments, Ident, Query, Visitor, WindowType,
};
use std::collections::HashSet;
use std::ops::ControlFlow;

/// The column references of one expression, not descending into subqueries
/// (collected whole), lambda parameters, struct field names or argument names.
#[derive(Default)]
pub(super) struct Refs {
    pub(super) columns: Vec<Vec<Ident>>,
    pub(super) subqueries: Vec<Query>,
    pub(super) windows: Vec<String>,
    /// A DuckDB `COLUMNS(...)` star expression.
    pub(super) columns_star: bool,
    pub(super) query_depth: usize,
    pub(super) skip: HashSet<*const Expr>,
    pub(super) skip_depth: usize,
    pub(super) lambdas: Vec<Vec<String>>,
}

impl Refs {
    pub(super) fn of(expr: &Expr) -> Refs {
        let mut refs = Refs::default();
        let _ = expr.visit(&mut refs);
        refs
    }

    pub(super) fn is_lambda_param(&self, ident: &Ident) -> bool {
        let name = norm(ident);
        self.lambdas.iter().flatten().any(|p| same(p, &name))
    }
}

impl Visitor for Refs {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if self.query_depth == 0 && self.skip_depth == 0 {
            self.subqueries.push(query.clone());
        }
        self.query_depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.query_depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if self.query_depth > 0 {
            return ControlFlow::Continue(());
        }
        if self.skip.contains(&(expr as *const Expr)) {
            self.skip_depth += 1;
        }
        if self.skip_depth > 0 {
            return ControlFlow::Continue(());
        }
        match expr {
            Expr::Identifier(ident) if !self.is_lambda_param(ident) => {
                self.columns.push(vec![ident.clone()]);
            }
            Expr::CompoundIdentifier(idents)
                if idents.first().is_some_and(|i| !self.is_lambda_param(i)) =>
            {
                self.columns.push(idents.clone());
            }
            Expr::CompoundFieldAccess { access_chain, .. } => {
                for access in access_chain {
                    if let AccessExpr::Dot(field) = access {
                        self.skip.insert(field as *const Expr);
                    }
                }
            }
            Expr::Lambda(lambda) => {
                self.lambdas
                    .push(lambda.params.iter().map(|p| norm(&p.name)).collect());
            }
            Expr::Function(function) => {
                if let FunctionArguments::List(list) = &function.args {
                    for arg in &list.args {
                        if let FunctionArg::ExprNamed { name, .. } = arg {
                            self.skip.insert(name as *const Expr);
                        }
                    }
                }
                match &function.over {
                    Some(WindowType::NamedWindow(name)) => self.windows.push(norm(name)),
                    Some(WindowType::WindowSpec(spec)) => {
                        if let Some(name) = &spec.window_name {
                            self.windows.push(norm(name));
                        }
                    }
                    None => {}
                }
                if function
                    .name
                    .0
                    .last()
                    .and_then(|p| p.as_ident())
                    .is_some_and(|i| i.value.eq_ignore_ascii_case("columns"))
                {
                    self.columns_star = true;
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if self.query_depth > 0 {
            return ControlFlow::Continue(());
        }
        if self.skip_depth == 0 && matches!(expr, Expr::Lambda(_)) {
            self.lambdas.pop();
        }
        if self.skip.contains(&(expr as *const Expr)) {
            self.skip_depth -= 1;
        }
        ControlFlow::Continue(())
    }
}

pub(super) fn strip_nested(mut expr: &Expr) -> &Expr {
    while let Expr::Nested(inner) = expr {
        expr = inner;
    }
    expr
}
