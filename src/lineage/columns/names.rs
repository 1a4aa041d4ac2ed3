//! Names: identifiers as names (unquoted ones fold to lowercase) and the
//! rules names are matched by.

use super::{ColumnSource, EdgeKind};
use sqlparser::ast::{Ident, ObjectName};

/// An identifier as a name: unquoted identifiers fold to lowercase.
pub(super) fn norm(ident: &Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// Name equality: exact, or case-insensitive (never fails a name the database
/// might accept).
pub(super) fn same(a: &str, b: &str) -> bool {
    a == b
        || a.eq_ignore_ascii_case(b)
        || (!(a.is_ascii() && b.is_ascii()) && a.to_lowercase() == b.to_lowercase())
}

pub(super) fn parts_equal(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
}

/// Whether one of two multi-part names is the other's tail.
pub(super) fn tail_match(a: &[String], b: &[String]) -> bool {
    let n = a.len().min(b.len());
    n > 0 && parts_equal(&a[a.len() - n..], &b[b.len() - n..])
}

/// Names that read like columns but are values or system columns.
pub(super) fn is_niladic(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "current_date",
        "current_time",
        "current_timestamp",
        "localtime",
        "localtimestamp",
        "now",
        "today",
        "true",
        "false",
        "null",
        "current_user",
        "session_user",
        "user",
        "current_role",
        "current_schema",
        "current_catalog",
        "current_database",
        "rowid",
        "ctid",
        "oid",
        "xmin",
        "xmax",
        "cmin",
        "cmax",
        "tableoid",
    ];
    let lower = name.to_lowercase();
    NAMES.contains(&lower.as_str())
}

/// `ILIKE` pattern match (`%` any run, `_` one character), case-insensitive.
pub(super) fn ilike(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('%', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
            Some(('_', rest)) => !t.is_empty() && go(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && go(rest, &t[1..]),
        }
    }
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    go(&p, &t)
}

/// Adds `extra` to `into`, keeping one entry per upstream column; an entry
/// seen both passed through and transformed counts as transformed.
pub(super) fn merge_sources(
    into: &mut Vec<ColumnSource>,
    extra: impl IntoIterator<Item = ColumnSource>,
) {
    for source in extra {
        match into
            .iter_mut()
            .find(|s| parts_equal(&s.relation, &source.relation) && same(&s.column, &source.column))
        {
            Some(existing) => {
                if existing.kind != source.kind {
                    existing.kind = EdgeKind::Transformed;
                }
            }
            None => into.push(source),
        }
    }
}

pub(super) fn transformed(mut sources: Vec<ColumnSource>) -> Vec<ColumnSource> {
    for source in &mut sources {
        source.kind = EdgeKind::Transformed;
    }
    sources
}

/// The name parts of a relation, unquoted as written; `None` if a part is
/// not a plain identifier.
pub(super) fn object_name(name: &ObjectName) -> Option<Vec<String>> {
    name.0
        .iter()
        .map(|part| part.as_ident().map(|i| i.value.clone()))
        .collect()
}
