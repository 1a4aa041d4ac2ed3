//! The tracer on `*`: the columns of a scope or one entry, and DuckDB's
//! `EXCLUDE`, `REPLACE` and `ILIKE` options.

use super::ColumnSource;
use super::names::{ilike, norm, same};
use super::scope::{Level, Scope};
use super::shape::{Col, Item, Lookup, Open, Shape};
use super::tracer::Tracer;
use sqlparser::ast::{ObjectName, WildcardAdditionalOptions};
use std::collections::HashSet;

impl Tracer<'_> {
    /// `*` over the whole scope (`None`) or one entry: the entries' columns,
    /// a `USING` (or natural join) column once.
    pub(super) fn star(&self, scope: &Scope, only: Option<usize>) -> Vec<Item> {
        let mut items = Vec::new();
        let mut seen_shared: Vec<String> = Vec::new();
        for (index, entry) in scope.entries.iter().enumerate() {
            match only {
                Some(only) if only != index => continue,
                None if !entry.in_star => continue,
                _ => {}
            }
            for item in &entry.shape.items {
                if let (Item::Col(col), None) = (item, only) {
                    let shared = scope.natural || scope.using.iter().any(|u| same(u, &col.name));
                    if shared {
                        if seen_shared.iter().any(|s| same(s, &col.name)) {
                            continue;
                        }
                        seen_shared.push(col.name.clone());
                    }
                }
                items.push(item.clone());
            }
        }
        items
    }

    /// `exclude`/`except`, `replace`, `rename` and `ilike` after a star.
    pub(super) fn star_options(
        &mut self,
        mut items: Vec<Item>,
        options: &WildcardAdditionalOptions,
        level: &Level,
    ) -> Vec<Item> {
        let mut excluded: Vec<String> = Vec::new();
        if let Some(exclude) = &options.opt_exclude {
            excluded.extend(exclude_names(exclude));
        }
        if let Some(except) = &options.opt_except {
            excluded.push(norm(&except.first_element));
            excluded.extend(except.additional_elements.iter().map(norm));
        }
        items = exclude_items(items, &excluded);
        if let Some(replace) = &options.opt_replace {
            for element in &replace.items {
                let (sources, _) = self.expr(&element.expr, level);
                let name = norm(&element.column_name);
                set_or_insert(&mut items, &name, sources);
            }
        }
        if let Some(rename) = &options.opt_rename {
            let pairs: Vec<_> = match rename {
                sqlparser::ast::RenameSelectItem::Single(one) => vec![one],
                sqlparser::ast::RenameSelectItem::Multiple(many) => many.iter().collect(),
            };
            for pair in pairs {
                let from = norm(&pair.ident);
                let to = norm(&pair.alias);
                let shape = Shape {
                    items: items.clone(),
                };
                let sources = match shape.lookup(&from) {
                    Lookup::Known(s) | Lookup::Deduced(s) => s,
                    Lookup::Missing | Lookup::Unknown => Vec::new(),
                };
                let mut renamed = false;
                for item in &mut items {
                    if let Item::Col(col) = item
                        && !renamed
                        && same(&col.name, &from)
                    {
                        col.name = to.clone();
                        renamed = true;
                    }
                }
                if !renamed {
                    items = exclude_items(items, std::slice::from_ref(&from));
                    set_or_insert(&mut items, &to, sources);
                }
            }
        }
        if let Some(pattern) = &options.opt_ilike {
            items = items
                .into_iter()
                .filter_map(|item| match item {
                    Item::Col(col) => ilike(&pattern.pattern, &col.name).then_some(Item::Col(col)),
                    Item::Open(open) => Some(Item::Open(Open {
                        origin: None,
                        except: open.except,
                    })),
                })
                .collect();
        }
        items
    }
}

pub(super) fn exclude_names(exclude: &sqlparser::ast::ExcludeSelectItem) -> Vec<String> {
    let names: Vec<&ObjectName> = match exclude {
        sqlparser::ast::ExcludeSelectItem::Single(one) => vec![one],
        sqlparser::ast::ExcludeSelectItem::Multiple(many) => many.iter().collect(),
    };
    names
        .into_iter()
        .filter_map(|n| n.0.last().and_then(|p| p.as_ident()).map(norm))
        .collect()
}

/// Columns sharing a name are renamed by DuckDB in a subquery's result
/// (`id`, `id_1`): their names are not certain.
pub(super) fn mark_duplicates(items: &mut [Item]) {
    let mut seen: HashSet<String> = HashSet::new();
    let mut duplicated: HashSet<String> = HashSet::new();
    for item in items.iter() {
        if let Item::Col(col) = item {
            let key = col.name.to_lowercase();
            if !seen.insert(key.clone()) {
                duplicated.insert(key);
            }
        }
    }
    if duplicated.is_empty() {
        return;
    }
    for item in items.iter_mut() {
        if let Item::Col(col) = item
            && duplicated.contains(&col.name.to_lowercase())
        {
            col.guessed = true;
        }
    }
}

pub(super) fn exclude_items(items: Vec<Item>, names: &[String]) -> Vec<Item> {
    if names.is_empty() {
        return items;
    }
    items
        .into_iter()
        .filter_map(|item| match item {
            Item::Col(col) => (!names.iter().any(|n| same(n, &col.name))).then_some(Item::Col(col)),
            Item::Open(mut open) => {
                open.except.extend(names.iter().cloned());
                Some(Item::Open(open))
            }
        })
        .collect()
}

/// Gives the column `name` new sources; when it is not a known column but may
/// be in an open part, the open part gives it up to a known column placed
/// after it.
pub(super) fn set_or_insert(items: &mut Vec<Item>, name: &str, sources: Vec<ColumnSource>) {
    for item in items.iter_mut() {
        if let Item::Col(col) = item
            && same(&col.name, name)
        {
            col.sources = sources;
            return;
        }
    }
    let position = items.iter().position(|item| match item {
        Item::Open(open) => !open.except.iter().any(|e| same(e, name)),
        Item::Col(_) => false,
    });
    if let Some(position) = position {
        if let Item::Open(open) = &mut items[position] {
            open.except.push(name.to_string());
        }
        items.insert(position + 1, Item::Col(Col::new(name.to_string(), sources)));
    }
}
