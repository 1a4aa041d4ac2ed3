//! The rewrites kiln makes to a template's source before minijinja parses
//! it: `{% set %}` literals made mutable, and `+`/`-` made calls that know
//! dates (minijinja has no operator hook for objects). Lines are kept.

use regex::Regex;
use std::sync::OnceLock;

/// `source` as kiln compiles it: every `{% set name = [...] %}` and
/// `{% set name = {...} %}` made mutable, and, where dates may meet, `+` and
/// `-` made calls that know dates ([`arithmetic_calls`]). Lines are kept;
/// columns but for the calls' own width.
pub fn mutable_literals(source: &str) -> std::borrow::Cow<'_, str> {
    let literals = set_literals(source);
    if let std::borrow::Cow::Owned(rewritten) = arithmetic_calls(&literals) {
        return rewritten.into();
    }
    literals
}

pub(super) fn set_literals(source: &str) -> std::borrow::Cow<'_, str> {
    static SET: OnceLock<Regex> = OnceLock::new();
    if !source.contains("set") {
        return source.into();
    }
    // `{% set name = ... %}` and `{% set ns.attr = ... %}`: whatever the
    // value is made by (a literal, `split()`, a filter, a macro's return),
    // a list assigned is one that changes in place, as Python's lists are.
    let re = SET.get_or_init(|| {
        Regex::new(
            r"(\{%[-+]?\s*set\s+[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?\s*=\s*)((?s:[^%]|%[^}])+?)(\s*[-+]?%\})",
        )
        .expect("valid regex")
    });
    re.replace_all(source, |c: &regex::Captures<'_>| {
        let value = &c[2];
        // A `%}` inside a string ended the match early: leave it be.
        if value.matches('\'').count() % 2 == 1 || value.matches('"').count() % 2 == 1 {
            return c[0].to_string();
        }
        let function = if value.starts_with('{') && value.ends_with('}') {
            "__kiln_dict"
        } else {
            "__kiln_mut"
        };
        format!("{}{function}({}){}", &c[1], value, &c[3])
    })
}

/// Words that mark a template whose `+` and `-` may meet a date.
pub(super) const DATE_WORDS: [&str; 4] = ["datetime", "timedelta", "pytz", "run_started_at"];

/// `source` with each binary `a + b` and `a - b` inside `{{ }}` and `{% %}`
/// made `__kiln_add(a, b)` and `__kiln_sub(a, b)`, when the source names a
/// date at all (see [`DATE_WORDS`]). Operands are found as minijinja's
/// parser finds them: `+`/`-` bind looser than `~`, `*`, filters and tests,
/// tighter than comparisons, `and`, `or`, `not`, `if`/`else`, `,` and `:`.
/// Lines are kept.
pub fn arithmetic_calls(source: &str) -> std::borrow::Cow<'_, str> {
    if !DATE_WORDS.iter().any(|w| source.contains(w)) {
        return source.into();
    }
    let mut edits: Vec<Edit> = Vec::new();
    let mut at = 0;
    while let Some(found) = source[at..].find('{') {
        let open = at + found;
        let rest = &source[open..];
        if rest.starts_with("{#") {
            at = rest
                .find("#}")
                .map(|e| open + e + 2)
                .unwrap_or(source.len());
            continue;
        }
        let statement = rest.starts_with("{%");
        if !statement && !rest.starts_with("{{") {
            at = open + 1;
            continue;
        }
        let mut start = open + 2;
        if matches!(source.as_bytes().get(start), Some(b'-' | b'+')) {
            start += 1;
        }
        let (tokens, end) = lex_tag(source, start);
        if statement
            && tokens
                .first()
                .is_some_and(|t| t.kind == TokKind::Ident && &source[t.start..t.end] == "raw")
        {
            // Nothing in a raw block is a tag.
            at = source[end..]
                .find("endraw")
                .and_then(|e| source[end + e..].find("%}").map(|c| end + e + c + 2))
                .unwrap_or(source.len());
            continue;
        }
        let skip = usize::from(statement && !tokens.is_empty());
        level(source, &tokens, skip, &mut edits);
        at = end;
    }
    if edits.is_empty() {
        return source.into();
    }
    // Insertions before replacements at one place: `a+b-c` closes the
    // first call, then writes the second comma.
    edits.sort_by_key(|e| (e.start, e.end != e.start));
    let mut out = String::with_capacity(source.len() + edits.len() * 12);
    let mut copied = 0;
    for edit in edits {
        out.push_str(&source[copied..edit.start]);
        out.push_str(&edit.text);
        copied = edit.end;
    }
    out.push_str(&source[copied..]);
    out.into()
}

#[derive(Debug)]
pub(super) struct Edit {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokKind {
    Ident,
    Number,
    Str,
    Op,
    Open,
    Close,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Tok {
    pub(super) kind: TokKind,
    pub(super) start: usize,
    pub(super) end: usize,
}

/// The tokens of one tag's body from `start`, and where the tag ends (after
/// `}}` or `%}`).
pub(super) fn lex_tag(source: &str, start: usize) -> (Vec<Tok>, usize) {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut i = start;
    let closes = |i: usize| bytes[i..].starts_with(b"}}") || bytes[i..].starts_with(b"%}");
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if closes(i) {
            return (tokens, i + 2);
        }
        if matches!(c, b'-' | b'+') && i + 1 < bytes.len() && closes(i + 1) {
            return (tokens, i + 3);
        }
        let begin = i;
        let kind = if c == b'"' || c == b'\'' {
            i += 1;
            while i < bytes.len() && bytes[i] != c {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(bytes.len());
            TokKind::Str
        } else if c.is_ascii_digit() {
            while i < bytes.len() {
                let d = bytes[i];
                let exponent_sign = matches!(d, b'+' | b'-') && matches!(bytes[i - 1], b'e' | b'E');
                let fraction = d == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
                if d.is_ascii_alphanumeric() || d == b'_' || exponent_sign || fraction {
                    i += 1;
                } else {
                    break;
                }
            }
            TokKind::Number
        } else if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] >= 0x80)
            {
                i += 1;
            }
            TokKind::Ident
        } else if matches!(c, b'(' | b'[' | b'{') {
            i += 1;
            TokKind::Open
        } else if matches!(c, b')' | b']' | b'}') {
            i += 1;
            TokKind::Close
        } else {
            let two = &bytes[i..(i + 2).min(bytes.len())];
            i += if matches!(two, b"**" | b"//" | b"==" | b"!=" | b"<=" | b">=") {
                2
            } else {
                1
            };
            TokKind::Op
        };
        tokens.push(Tok {
            kind,
            start: begin,
            end: i,
        });
    }
    (tokens, bytes.len())
}

/// Rewrites the operands at one bracket level from `tokens[i]` up to the
/// closing bracket; returns the index after it.
pub(super) fn level(source: &str, tokens: &[Tok], mut i: usize, edits: &mut Vec<Edit>) -> usize {
    const BOUNDARY_WORDS: [&str; 16] = [
        "and",
        "or",
        "not",
        "in",
        "if",
        "else",
        "elif",
        "for",
        "recursive",
        "set",
        "as",
        "import",
        "from",
        "with",
        "without",
        "context",
    ];
    // Each item: (first token, last token), a bracket group being one item.
    let mut region: Vec<(usize, usize)> = Vec::new();
    let text = |t: &Tok| &source[t.start..t.end];
    while i < tokens.len() {
        let t = tokens[i];
        match t.kind {
            TokKind::Close => {
                flush(source, tokens, &region, edits);
                return i + 1;
            }
            TokKind::Open => {
                let after = level(source, tokens, i + 1, edits);
                region.push((i, after - 1));
                i = after;
                continue;
            }
            TokKind::Ident => {
                let word = text(&t);
                let after_is = i > 0 && text(&tokens[i - 1]) == "is";
                if BOUNDARY_WORDS.contains(&word) && !(word == "not" && after_is) {
                    flush(source, tokens, &region, edits);
                    region.clear();
                } else {
                    region.push((i, i));
                }
            }
            TokKind::Op
                if matches!(
                    text(&t),
                    "," | ":" | "=" | "==" | "!=" | "<" | ">" | "<=" | ">="
                ) =>
            {
                flush(source, tokens, &region, edits);
                region.clear();
            }
            _ => region.push((i, i)),
        }
        i += 1;
    }
    flush(source, tokens, &region, edits);
    tokens.len()
}

/// The edits for one run of operands and `+`/`-` at one level.
pub(super) fn flush(
    source: &str,
    tokens: &[Tok],
    region: &[(usize, usize)],
    edits: &mut Vec<Edit>,
) {
    let ends_operand = |item: &(usize, usize)| {
        let t = tokens[item.1];
        matches!(
            t.kind,
            TokKind::Ident | TokKind::Number | TokKind::Str | TokKind::Close
        )
    };
    let binary: Vec<usize> = (1..region.len())
        .filter(|&k| {
            let t = tokens[region[k].0];
            t.kind == TokKind::Op
                && matches!(&source[t.start..t.end], "+" | "-")
                && ends_operand(&region[k - 1])
        })
        .collect();
    if binary.is_empty() || binary.last() == Some(&(region.len() - 1)) {
        return;
    }
    let mut opening = String::new();
    for &k in binary.iter().rev() {
        let op = &source[tokens[region[k].0].start..tokens[region[k].0].end];
        opening.push_str(if op == "+" {
            "__kiln_add("
        } else {
            "__kiln_sub("
        });
    }
    let first = tokens[region[0].0].start;
    edits.push(Edit {
        start: first,
        end: first,
        text: opening,
    });
    for (n, &k) in binary.iter().enumerate() {
        let op = tokens[region[k].0];
        edits.push(Edit {
            start: op.start,
            end: op.end,
            text: ",".to_string(),
        });
        let operand_end = binary
            .get(n + 1)
            .map(|&next| next - 1)
            .unwrap_or(region.len() - 1);
        let end = tokens[region[operand_end].1].end;
        edits.push(Edit {
            start: end,
            end,
            text: ")".to_string(),
        });
    }
}
