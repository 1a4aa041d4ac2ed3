//! Shapes: what a relation's columns are known to be. A `Shape` is the
//! ordered columns of a relation, each with its upstream sources, plus "open"
//! parts standing for columns that are not known.

use super::names::{merge_sources, norm, same};
use super::{ColumnSource, EdgeKind};
use sqlparser::ast::TableAlias;

#[derive(Debug, Clone, Default)]
pub(super) struct Shape {
    pub(super) items: Vec<Item>,
}

#[derive(Debug, Clone)]
pub(super) enum Item {
    Col(Col),
    Open(Open),
}

#[derive(Debug, Clone)]
pub(super) struct Col {
    pub(super) name: String,
    pub(super) sources: Vec<ColumnSource>,
    /// The name may not be the database's: an unaliased expression's, or
    /// one of several columns of the same name (which DuckDB renames).
    pub(super) guessed: bool,
}

impl Col {
    pub(super) fn new(name: String, sources: Vec<ColumnSource>) -> Self {
        Col {
            name,
            sources,
            guessed: false,
        }
    }
}

/// Columns that are not known by name.
#[derive(Debug, Clone)]
pub(super) struct Open {
    /// All columns of this catalog relation (as written in `FROM`), whose
    /// columns the catalog does not know; `None`: nothing is known.
    pub(super) origin: Option<Vec<String>>,
    /// Names taken out (`* exclude (...)`), or given elsewhere in the shape.
    pub(super) except: Vec<String>,
}

pub(super) enum Lookup {
    /// One of the known columns.
    Known(Vec<ColumnSource>),
    /// Not among the known columns, so from the one open part that can have it.
    Deduced(Vec<ColumnSource>),
    /// Certainly not a column: the columns are fully known.
    Missing,
    /// Can't tell.
    Unknown,
}

impl Shape {
    pub(super) fn opaque() -> Self {
        Shape {
            items: vec![Item::Open(Open {
                origin: None,
                except: Vec::new(),
            })],
        }
    }

    pub(super) fn cols(&self) -> impl Iterator<Item = &Col> {
        self.items.iter().filter_map(|item| match item {
            Item::Col(col) => Some(col),
            Item::Open(_) => None,
        })
    }

    pub(super) fn lookup(&self, name: &str) -> Lookup {
        let exact = self.cols().find(|c| c.name == name);
        if let Some(col) = exact.or_else(|| self.cols().find(|c| same(&c.name, name))) {
            return Lookup::Known(col.sources.clone());
        }
        if !self.items.iter().any(|item| matches!(item, Item::Open(_))) {
            return if self.cols().any(|c| c.guessed) {
                Lookup::Unknown
            } else {
                Lookup::Missing
            };
        }
        // Not flagged even when every open part excludes the name: only
        // fully known columns are proof.
        let mut open = self.items.iter().filter_map(|item| match item {
            Item::Open(open) if !open.except.iter().any(|e| same(e, name)) => Some(open),
            _ => None,
        });
        match (open.next(), open.next()) {
            (None, _) => Lookup::Unknown,
            (Some(open), None) => match &open.origin {
                Some(relation) => Lookup::Deduced(vec![ColumnSource {
                    relation: relation.clone(),
                    column: name.to_string(),
                    kind: EdgeKind::Passthrough,
                }]),
                None => Lookup::Unknown,
            },
            _ => Lookup::Unknown,
        }
    }

    /// Applies a column alias list (`t(a, b)`): positional renames.
    pub(super) fn renamed(self, alias: Option<&TableAlias>) -> Self {
        let names: Vec<String> = match alias {
            Some(alias) if !alias.columns.is_empty() => {
                alias.columns.iter().map(|c| norm(&c.name)).collect()
            }
            _ => return self,
        };
        let mut names = names.into_iter();
        let mut items = Vec::new();
        let mut rest = self.items.into_iter();
        for item in rest.by_ref() {
            match item {
                Item::Col(mut col) => {
                    if let Some(name) = names.next() {
                        col.name = name;
                        col.guessed = false;
                    }
                    items.push(Item::Col(col));
                }
                Item::Open(_) => {
                    // The columns from here on are unknown: the remaining
                    // names are columns, but their sources are not known.
                    items.extend(
                        names
                            .by_ref()
                            .map(|name| Item::Col(Col::new(name, Vec::new()))),
                    );
                    items.extend(Shape::opaque().items);
                    break;
                }
            }
        }
        Shape { items }
    }

    /// A relation whose columns the catalog knows.
    pub(super) fn known(relation: &[String], columns: Vec<String>) -> Self {
        Shape {
            items: columns
                .into_iter()
                .map(|column| {
                    let source = ColumnSource {
                        relation: relation.to_vec(),
                        column: column.clone(),
                        kind: EdgeKind::Passthrough,
                    };
                    Item::Col(Col::new(column, vec![source]))
                })
                .collect(),
        }
    }

    /// A catalog relation whose columns are unknown.
    pub(super) fn unknown_relation(relation: &[String]) -> Self {
        Shape {
            items: vec![Item::Open(Open {
                origin: Some(relation.to_vec()),
                except: Vec::new(),
            })],
        }
    }

    /// Set operations: by position, or by name (`union by name`). Only UNION
    /// takes values from the right side; all sides are traced either way.
    pub(super) fn combine(left: Shape, right: Shape, union: bool, by_name: bool) -> Shape {
        let mut items = Vec::new();
        if by_name {
            if left.items.iter().any(|i| matches!(i, Item::Open(_)))
                || right.items.iter().any(|i| matches!(i, Item::Open(_)))
            {
                return Shape::opaque();
            }
            for col in left.cols() {
                let mut col = col.clone();
                if union && let Some(other) = right.cols().find(|c| same(&c.name, &col.name)) {
                    merge_sources(&mut col.sources, other.sources.clone());
                }
                items.push(Item::Col(col));
            }
            if union {
                for col in right.cols() {
                    if !left.cols().any(|c| same(&c.name, &col.name)) {
                        items.push(Item::Col(col.clone()));
                    }
                }
            }
            return Shape { items };
        }
        let complete = left.items.len() == right.items.len();
        for (l, r) in left.items.into_iter().zip(right.items) {
            match (l, r) {
                (Item::Col(mut l), Item::Col(r)) => {
                    if union {
                        merge_sources(&mut l.sources, r.sources);
                    }
                    items.push(Item::Col(l));
                }
                _ => {
                    items.extend(Shape::opaque().items);
                    return Shape { items };
                }
            }
        }
        if !complete {
            items.extend(Shape::opaque().items);
        }
        Shape { items }
    }
}
