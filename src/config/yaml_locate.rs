//! Finding the line and column of a key path (`models[2].config.materialized`)
//! in a YAML file's text, so that a problem found after parsing (an unknown
//! key, a wrong value) can point at its line. serde_yaml's values carry no
//! positions; this reads the block-style YAML dbt projects are written in and
//! gives up (returning the deepest place it found) on anything else.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Item(usize),
}

impl Seg {
    pub fn key(k: impl Into<String>) -> Seg {
        Seg::Key(k.into())
    }
}

/// A found place: 1-based line and column, and the length of the key found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub line: usize,
    pub column: usize,
    pub length: usize,
}

struct Line<'a> {
    indent: usize,
    raw: &'a str,
    /// Neither blank nor a comment.
    content: bool,
}

/// The deepest place of `path` found in `text`, or `None` when not even its
/// first step is there. To look up many paths in one text, make a
/// [`Locator`] once.
pub fn locate(text: &str, path: &[Seg]) -> Option<Place> {
    Locator::new(text).locate(path)
}

/// A YAML text split into lines once, with each scope's entries remembered,
/// so that looking up every entry of a large properties file stays linear.
pub struct Locator<'a> {
    lines: Vec<Line<'a>>,
    scopes: RefCell<HashMap<Scope, Entries>>,
}

/// Where a scope starts, the indentation of its parent, and the line and
/// column of an entry written inline after a `- `.
type Scope = (usize, isize, Option<(usize, usize)>);

/// The entries of a scope (line index and column of each), and how many of
/// the first are list items (`- `), so that the n-th item is one lookup.
type Entries = Rc<(Vec<(usize, usize)>, usize)>;

impl<'a> Locator<'a> {
    pub fn new(text: &'a str) -> Locator<'a> {
        let lines = text
            .lines()
            .map(|raw| {
                let trimmed = raw.trim();
                Line {
                    indent: raw.len() - raw.trim_start_matches(' ').len(),
                    raw,
                    content: !trimmed.is_empty() && !trimmed.starts_with('#'),
                }
            })
            .collect();
        Locator {
            lines,
            scopes: RefCell::new(HashMap::new()),
        }
    }

    /// The deepest place of `path` found, or `None` when not even its first
    /// step is there.
    pub fn locate(&self, path: &[Seg]) -> Option<Place> {
        let lines = &self.lines;
        let mut scope_start = 0usize;
        let mut parent_indent: isize = -1;
        let mut inline: Option<(usize, usize)> = None;
        let mut found = None;
        for seg in path {
            let entries = self.level_entries((scope_start, parent_indent, inline));
            let hit = match seg {
                Seg::Key(k) => entries
                    .0
                    .iter()
                    .find(|(l, c)| key_matches(&lines[*l].raw[*c..], k))
                    .map(|(l, c)| (*l, *c, k.chars().count())),
                Seg::Item(n) => entries
                    .0
                    .get(*n)
                    .filter(|_| *n < entries.1)
                    .map(|(l, c)| (*l, *c, 1)),
            };
            let Some((line, col, length)) = hit else {
                break;
            };
            found = Some(Place {
                line: line + 1,
                column: col + 1,
                length,
            });
            scope_start = line + 1;
            match seg {
                Seg::Key(_) => {
                    inline = None;
                    parent_indent = col as isize;
                    // A sequence may sit at the same indentation as its key.
                    if let Some(next) = lines[scope_start.min(lines.len())..]
                        .iter()
                        .find(|l| l.content)
                        && next.indent == col
                        && next.raw.trim_start().starts_with('-')
                    {
                        parent_indent = col as isize - 1;
                    }
                }
                Seg::Item(_) => {
                    parent_indent = col as isize;
                    let after = &lines[line].raw[col + 1..];
                    let inner = col + 1 + (after.len() - after.trim_start().len());
                    inline = (!after.trim().is_empty()).then_some((line, inner));
                }
            }
        }
        found
    }

    /// The entries (line index, column) at the first indentation level of a
    /// scope, worked out once per scope.
    fn level_entries(&self, scope: Scope) -> Entries {
        if let Some(entries) = self.scopes.borrow().get(&scope) {
            return entries.clone();
        }
        let (start, parent_indent, inline) = scope;
        let mut entries = Vec::new();
        let mut level = None;
        if let Some((line, col)) = inline {
            entries.push((line, col));
            level = Some(col);
        }
        for (i, line) in self.lines.iter().enumerate().skip(start) {
            if !line.content {
                continue;
            }
            if (line.indent as isize) <= parent_indent {
                break;
            }
            let level = *level.get_or_insert(line.indent);
            if line.indent == level {
                entries.push((i, line.indent));
            } else if line.indent < level {
                break;
            }
        }
        let items = entries
            .iter()
            .take_while(|(l, c)| self.lines[*l].raw[*c..].starts_with('-'))
            .count();
        let entries = Rc::new((entries, items));
        self.scopes.borrow_mut().insert(scope, entries.clone());
        entries
    }
}

/// Whether `text` starts with `key:` (the key bare or quoted).
fn key_matches(text: &str, key: &str) -> bool {
    let after = |text: &str| {
        text.strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with(':'))
    };
    after(text)
        || ['"', '\''].iter().any(|q| {
            text.strip_prefix(*q)
                .and_then(|t| t.strip_prefix(key))
                .and_then(|t| t.strip_prefix(*q))
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
version: 2
models:
  - name: orders
    description: x
  - name: customers
    config:
      materialized: table
    columns:
      - name: id
        tests: [unique]
      - name: email
sources:
- name: raw
  tables:
  - name: payments
";

    fn at(path: &[Seg]) -> Option<(usize, usize)> {
        locate(TEXT, path).map(|p| (p.line, p.column))
    }

    #[test]
    fn finds_keys_inside_sequences() {
        use Seg::*;
        assert_eq!(at(&[Seg::key("models")]), Some((2, 1)));
        assert_eq!(at(&[Seg::key("models"), Item(1)]), Some((5, 3)));
        assert_eq!(
            at(&[Seg::key("models"), Item(1), Seg::key("name")]),
            Some((5, 5))
        );
        assert_eq!(
            at(&[
                Seg::key("models"),
                Item(1),
                Seg::key("config"),
                Seg::key("materialized")
            ]),
            Some((7, 7))
        );
        assert_eq!(
            at(&[
                Seg::key("models"),
                Item(1),
                Seg::key("columns"),
                Item(1),
                Seg::key("name")
            ]),
            Some((11, 9))
        );
    }

    #[test]
    fn sequences_at_the_key_indentation() {
        use Seg::*;
        assert_eq!(
            at(&[
                Seg::key("sources"),
                Item(0),
                Seg::key("tables"),
                Item(0),
                Seg::key("name")
            ]),
            Some((15, 5))
        );
    }

    #[test]
    fn stops_at_the_deepest_place_found() {
        use Seg::*;
        assert_eq!(
            at(&[Seg::key("models"), Item(0), Seg::key("nope")]),
            Some((3, 3))
        );
        assert_eq!(at(&[Seg::key("missing")]), None);
    }
}
