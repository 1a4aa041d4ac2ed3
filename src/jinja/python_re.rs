//! `modules.re` as dbt exposes Python's `re`: the pattern syntax Python
//! reads, translated for `fancy_regex` (literal braces, verbose mode as
//! Python strips it, `$` before a final newline, `\Z`, lookaround and
//! backreferences), and the module's functions with Python's results:
//! `findall` gives the groups (a tuple for several), `sub` reads Python's
//! replacement template (`\1`, `\g<n>`, `\g<name>`), a match object has
//! `group()`, `groups()`, `start()`, `end()`, `span()`; flags are the
//! module's constants (`re.IGNORECASE`, ...) or inline (`(?ix)`).

use std::collections::BTreeMap;
use std::sync::Arc;

use fancy_regex::Regex;
use minijinja::value::{Enumerator, Object, Value};
use minijinja::{Error, State};

use super::python_compat::{bind, given, py_error, text_of};

const IGNORECASE: i64 = 2;
const LOCALE: i64 = 4;
const MULTILINE: i64 = 8;
const DOTALL: i64 = 16;
const UNICODE: i64 = 32;
const VERBOSE: i64 = 64;
const ASCII: i64 = 256;

/// The module, as `modules.re`.
pub(super) fn module() -> Value {
    Value::from_object(ReModule)
}

/// Python's regex syntax as fancy_regex reads it, with `flags` (Python's
/// numbers) and the inline flags the pattern starts with. `$` without
/// MULTILINE matches before a final newline too, as in Python; when
/// `text_ends_in_newline` is false that cannot happen and `$` stays the
/// plain end of text, which keeps the pattern one the fast engine runs.
pub(crate) fn translate(
    pattern: &str,
    flags: i64,
    text_ends_in_newline: bool,
) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut flags = flags;
    let mut i = 0;
    // Leading inline flags: `(?ix)`, `(?i)(?s)`.
    while chars.get(i) == Some(&'(') && chars.get(i + 1) == Some(&'?') {
        let mut j = i + 2;
        let mut found = 0;
        while let Some(c) = chars.get(j) {
            let bit = match c {
                'i' => IGNORECASE,
                'L' => LOCALE,
                'm' => MULTILINE,
                's' => DOTALL,
                'u' => UNICODE,
                'x' => VERBOSE,
                'a' => ASCII,
                _ => break,
            };
            found |= bit;
            j += 1;
        }
        if j == i + 2 || chars.get(j) != Some(&')') {
            break;
        }
        flags |= found;
        i = j + 1;
    }
    let verbose = flags & VERBOSE != 0;
    let mut out = String::new();
    for (bit, letter) in [(IGNORECASE, 'i'), (MULTILINE, 'm'), (DOTALL, 's')] {
        if flags & bit != 0 {
            out.push_str("(?");
            out.push(letter);
            out.push(')');
        }
    }
    let dollar = if flags & MULTILINE != 0 {
        "$"
    } else if text_ends_in_newline {
        r"(?:\z|(?=\n\z))"
    } else {
        r"\z"
    };
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if in_class {
            match c {
                ']' => {
                    in_class = false;
                    out.push(']');
                }
                '\\' => i = escape(&chars, i, true, &mut out)?,
                '[' | '&' | '~' => {
                    out.push('\\');
                    out.push(c);
                }
                _ => out.push(c),
            }
            continue;
        }
        match c {
            _ if verbose && c.is_whitespace() => {}
            '#' if verbose => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\\' => i = escape(&chars, i, false, &mut out)?,
            '[' => {
                in_class = true;
                out.push('[');
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                // A `]` first in a class is the character.
                if chars.get(i) == Some(&']') {
                    out.push_str(r"\]");
                    i += 1;
                }
            }
            '{' => match repetition(&chars, i) {
                Some((lo, hi, end)) => {
                    if lo == hi {
                        out.push_str(&format!("{{{lo}}}"));
                    } else {
                        out.push_str(&format!("{{{lo},{hi}}}"));
                    }
                    i = end;
                }
                None => out.push_str(r"\{"),
            },
            '}' => out.push_str(r"\}"),
            '$' => out.push_str(dollar),
            '(' if chars.get(i) == Some(&'?') => {
                let rest: String = chars[i..chars.len().min(i + 3)].iter().collect();
                if rest.starts_with("?#") {
                    // A comment group.
                    while i < chars.len() && chars[i] != ')' {
                        i += 1;
                    }
                    i += 1;
                } else if rest.starts_with("?P=") {
                    let close = chars[i..]
                        .iter()
                        .position(|&c| c == ')')
                        .ok_or("missing ), unterminated name")?;
                    let name: String = chars[i + 3..i + close].iter().collect();
                    out.push_str(&format!(r"\k<{name}>"));
                    i += close + 1;
                } else {
                    out.push('(');
                }
            }
            _ => out.push(c),
        }
    }
    if in_class {
        return Err("unterminated character set".to_string());
    }
    Ok(out)
}

/// A Python repetition `{m}`, `{m,n}`, `{,n}`, `{m,}` from `i` (after the
/// `{`): its bounds and where it ends; `None` where the `{` is a character.
fn repetition(chars: &[char], mut i: usize) -> Option<(String, String, usize)> {
    let digits = |i: &mut usize| {
        let start = *i;
        while chars.get(*i).is_some_and(char::is_ascii_digit) {
            *i += 1;
        }
        chars[start..*i].iter().collect::<String>()
    };
    let lo = digits(&mut i);
    let hi = if chars.get(i) == Some(&',') {
        i += 1;
        digits(&mut i)
    } else if lo.is_empty() {
        return None;
    } else {
        lo.clone()
    };
    if chars.get(i) != Some(&'}') {
        return None;
    }
    let lo = if lo.is_empty() { "0".to_string() } else { lo };
    Some((lo, hi, i + 1))
}

/// One escape from `i` (after the backslash), written for fancy_regex.
fn escape(chars: &[char], i: usize, in_class: bool, out: &mut String) -> Result<usize, String> {
    let Some(&c) = chars.get(i) else {
        return Err("bad escape (end of pattern)".to_string());
    };
    let mut end = i + 1;
    match c {
        'd' | 'D' | 's' | 'S' | 'w' | 'W' | 'n' | 't' | 'r' | 'f' | 'v' | 'a' => {
            out.push('\\');
            out.push(c);
        }
        'b' if in_class => out.push_str(r"\x08"),
        'b' | 'B' | 'A' => {
            out.push('\\');
            out.push(c);
        }
        'Z' if !in_class => out.push_str(r"\z"),
        'x' | 'u' | 'U' => {
            let len = match c {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let hex: String = chars.iter().skip(end).take(len).collect();
            if hex.len() != len || !hex.chars().all(|h| h.is_ascii_hexdigit()) {
                return Err(format!("incomplete escape \\{c}{hex}"));
            }
            out.push_str(&format!(r"\x{{{hex}}}"));
            end += len;
        }
        '0'..='9' => {
            // `\0` and three octal digits are a character; others a group.
            let octal = |k: usize| chars.get(k).is_some_and(|d| ('0'..='7').contains(d));
            if c == '0' || (octal(i) && octal(i + 1) && octal(i + 2)) {
                let mut digits = String::from(c);
                while digits.len() < 3 && octal(end) {
                    digits.push(chars[end]);
                    end += 1;
                }
                let code = u32::from_str_radix(&digits, 8).unwrap_or(0);
                out.push_str(&format!(r"\x{{{code:x}}}"));
            } else if in_class {
                return Err(format!("bad escape \\{c}"));
            } else {
                let mut digits = String::from(c);
                if chars.get(end).is_some_and(char::is_ascii_digit) {
                    digits.push(chars[end]);
                    end += 1;
                }
                out.push('\\');
                out.push_str(&digits);
            }
        }
        _ if c.is_ascii_alphanumeric() => return Err(format!("bad escape \\{c}")),
        // Any other character escaped is itself.
        _ => push_literal(c, out),
    }
    Ok(end)
}

/// `c` as a literal, escaped where fancy_regex would read it otherwise.
fn push_literal(c: char, out: &mut String) {
    if c.is_ascii_punctuation() {
        out.push('\\');
        out.push(c);
    } else if c.is_whitespace() {
        out.push_str(&format!(r"\x{{{:x}}}", c as u32));
    } else {
        out.push(c);
    }
}

/// A pattern with its flags, compiled for one text.
#[derive(Debug, Clone)]
struct Pattern {
    source: String,
    flags: i64,
}

impl Pattern {
    /// The pattern an argument names: text, or a compiled pattern.
    fn of(value: &Value, flags: Option<&Value>) -> Result<Self, Error> {
        let flags = flags
            .and_then(|f| i64::try_from(f.clone()).ok())
            .unwrap_or(0);
        if let Some(compiled) = value.downcast_object_ref::<Pattern>() {
            return Ok(Pattern {
                source: compiled.source.clone(),
                flags: compiled.flags | flags,
            });
        }
        Ok(Pattern {
            source: text_of(Some(value)),
            flags,
        })
    }

    fn regex(&self, text: &str) -> Result<(Regex, Vec<Option<String>>), Error> {
        let translated = translate(&self.source, self.flags, text.ends_with('\n'))
            .map_err(|e| py_error("re.error", format!("{e} in {:?}", self.source)))?;
        let re = Regex::new(&translated)
            .map_err(|e| py_error("re.error", format!("{e} in {:?}", self.source)))?;
        let names = re.capture_names().map(|n| n.map(str::to_string)).collect();
        Ok((re, names))
    }

    /// Every match in `text` in turn, as Python finds them: an empty match
    /// is followed by a search one character on.
    fn matches(&self, text: &Arc<str>, limit: usize) -> Result<Vec<Found>, Error> {
        let (re, names) = self.regex(text)?;
        let names = Arc::new(names);
        let mut found = Vec::new();
        let mut pos = 0;
        while pos <= text.len() && (limit == 0 || found.len() < limit) {
            let captures = re
                .captures_from_pos(&**text, pos)
                .map_err(|e| py_error("re.error", e))?;
            let Some(captures) = captures else { break };
            let spans: Vec<Option<(usize, usize)>> = (0..captures.len())
                .map(|g| captures.get(g).map(|m| (m.start(), m.end())))
                .collect();
            let (start, end) = spans[0].expect("group 0");
            pos = if end == start {
                end + text[end..].chars().next().map_or(1, char::len_utf8)
            } else {
                end
            };
            found.push(Found {
                text: text.clone(),
                spans,
                names: names.clone(),
                pattern: self.source.clone(),
            });
        }
        Ok(found)
    }

    /// The first match from the start (`match`), anywhere (`search`), or
    /// of the whole text (`fullmatch`).
    fn find(&self, how: &str, text: &str) -> Result<Value, Error> {
        // A verbose pattern's last comment ends at a newline, not at `)`.
        let flags = self.all_flags();
        let close = if flags & VERBOSE != 0 { "\n)" } else { ")" };
        let anchored = match how {
            "match" => Pattern {
                source: format!(r"\A(?:{}{close}", self.inline_free()),
                flags,
            },
            "fullmatch" => Pattern {
                source: format!(r"\A(?:{}{close}\Z", self.inline_free()),
                flags,
            },
            _ => self.clone(),
        };
        let text: Arc<str> = Arc::from(text);
        Ok(anchored
            .matches(&text, 1)?
            .into_iter()
            .next()
            .map_or(Value::from(()), |mut m| {
                m.pattern = self.source.clone();
                Value::from_object(m)
            }))
    }

    /// The pattern without its leading inline flags, and all its flags.
    fn inline_free(&self) -> String {
        let mut rest = self.source.as_str();
        while let Some(after) = rest.strip_prefix("(?") {
            let letters = after
                .find(')')
                .filter(|&n| n > 0 && after[..n].chars().all(|c| "iLmsuxa".contains(c)));
            match letters {
                Some(n) => rest = &after[n + 1..],
                None => break,
            }
        }
        rest.to_string()
    }

    fn all_flags(&self) -> i64 {
        let prefix = &self.source[..self.source.len() - self.inline_free().len()];
        let mut flags = self.flags;
        for c in prefix.chars() {
            flags |= match c {
                'i' => IGNORECASE,
                'm' => MULTILINE,
                's' => DOTALL,
                'x' => VERBOSE,
                'a' => ASCII,
                'u' => UNICODE,
                'L' => LOCALE,
                _ => 0,
            };
        }
        flags
    }

    /// `sub`/`subn`: the text with up to `count` matches replaced (all for
    /// 0), and how many were.
    fn sub(
        &self,
        state: &mut State<'_, '_>,
        repl: &Value,
        text: &str,
        count: usize,
    ) -> Result<(String, usize), Error> {
        let text: Arc<str> = Arc::from(text);
        let found = self.matches(&text, count)?;
        // A function (a macro) is called with each match; else a template.
        let template = match repl.as_object() {
            Some(_) if repl.as_str().is_none() => None,
            _ => Some(parse_template(&text_of(Some(repl)))?),
        };
        let mut out = String::new();
        let mut last = 0;
        let n = found.len();
        for m in found {
            let (start, end) = m.spans[0].expect("group 0");
            out.push_str(&text[last..start]);
            match &template {
                Some(parts) => out.push_str(&m.expand(parts)?),
                None => out.push_str(&text_of(Some(
                    &repl.call(state, &[Value::from_object(m.clone())])?,
                ))),
            }
            last = end;
        }
        out.push_str(&text[last..]);
        Ok((out, n))
    }
}

impl Object for Pattern {
    fn is_true(self: &Arc<Self>) -> bool {
        true
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "pattern" => Some(Value::from(self.source.clone())),
            "flags" => Some(Value::from(self.all_flags() | UNICODE)),
            "groups" => self
                .regex("")
                .ok()
                .map(|(re, _)| Value::from(re.captures_len() - 1)),
            _ => None,
        }
    }

    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let mut full = vec![Value::from_object((**self).clone())];
        full.extend_from_slice(args);
        call(state, method, &full)
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "re.compile({:?})", self.source)
    }
}

/// One piece of a replacement template.
#[derive(Debug)]
enum Part {
    Text(String),
    Group(GroupRef),
}

#[derive(Debug)]
enum GroupRef {
    Number(usize),
    Name(String),
}

/// Python's replacement template: `\1`..`\99`, `\g<n>`, `\g<name>`, the
/// escapes `\n` `\t` ... and `\\`; another backslash is kept.
fn parse_template(template: &str) -> Result<Vec<Part>, Error> {
    let chars: Vec<char> = template.chars().collect();
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    let bad = |m: String| py_error("re.error", m);
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '\\' {
            text.push(c);
            continue;
        }
        let Some(&next) = chars.get(i) else {
            return Err(bad("bad escape (end of pattern)".to_string()));
        };
        i += 1;
        let group = match next {
            'g' => {
                if chars.get(i) != Some(&'<') {
                    return Err(bad("missing <".to_string()));
                }
                let close = chars[i..]
                    .iter()
                    .position(|&c| c == '>')
                    .ok_or_else(|| bad("missing >, unterminated name".to_string()))?;
                let name: String = chars[i + 1..i + close].iter().collect();
                i += close + 1;
                Some(match name.parse::<usize>() {
                    Ok(n) => GroupRef::Number(n),
                    Err(_) if !name.is_empty() => GroupRef::Name(name),
                    Err(_) => return Err(bad("missing group name".to_string())),
                })
            }
            '0'..='9' => {
                let octal = |k: usize| chars.get(k).is_some_and(|d| ('0'..='7').contains(d));
                if next == '0' || (octal(i - 1) && octal(i) && octal(i + 1)) {
                    let mut digits = String::from(next);
                    while digits.len() < 3 && octal(i) {
                        digits.push(chars[i]);
                        i += 1;
                    }
                    let code = u32::from_str_radix(&digits, 8).unwrap_or(0);
                    text.extend(char::from_u32(code));
                    None
                } else {
                    let mut n = next.to_digit(10).unwrap_or(0) as usize;
                    if let Some(d) = chars.get(i).and_then(|d| d.to_digit(10)) {
                        n = n * 10 + d as usize;
                        i += 1;
                    }
                    Some(GroupRef::Number(n))
                }
            }
            _ => {
                match next {
                    'n' => text.push('\n'),
                    't' => text.push('\t'),
                    'r' => text.push('\r'),
                    'f' => text.push('\x0c'),
                    'v' => text.push('\x0b'),
                    'a' => text.push('\x07'),
                    'b' => text.push('\x08'),
                    '\\' => text.push('\\'),
                    _ if next.is_ascii_alphabetic() => {
                        return Err(bad(format!("bad escape \\{next}")));
                    }
                    _ => {
                        text.push('\\');
                        text.push(next);
                    }
                }
                None
            }
        };
        if let Some(group) = group {
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            parts.push(Part::Group(group));
        }
    }
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    Ok(parts)
}

/// A match object: the text, each group's span (bytes), the group names.
#[derive(Debug, Clone)]
struct Found {
    text: Arc<str>,
    spans: Vec<Option<(usize, usize)>>,
    names: Arc<Vec<Option<String>>>,
    pattern: String,
}

impl Found {
    fn index(&self, group: &Value) -> Result<usize, Error> {
        let index = match group.as_str() {
            Some(name) => self.names.iter().position(|n| n.as_deref() == Some(name)),
            None => i64::try_from(group.clone())
                .ok()
                .and_then(|n| usize::try_from(n).ok()),
        };
        index
            .filter(|&i| i < self.spans.len())
            .ok_or_else(|| py_error("IndexError", "no such group"))
    }

    fn group(&self, i: usize) -> Option<&str> {
        self.spans[i].map(|(s, e)| &self.text[s..e])
    }

    fn value(&self, i: usize, default: &Value) -> Value {
        self.group(i).map_or(default.clone(), Value::from)
    }

    /// A byte offset as Python counts it, in characters.
    fn position(&self, byte: usize) -> usize {
        self.text[..byte].chars().count()
    }

    fn expand(&self, parts: &[Part]) -> Result<String, Error> {
        let mut out = String::new();
        for part in parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Group(g) => {
                    let i = match g {
                        GroupRef::Number(n) => Some(*n).filter(|&n| n < self.spans.len()),
                        GroupRef::Name(name) => {
                            self.names.iter().position(|n| n.as_deref() == Some(name))
                        }
                    }
                    .ok_or_else(|| py_error("re.error", "invalid group reference"))?;
                    out.push_str(self.group(i).unwrap_or(""));
                }
            }
        }
        Ok(out)
    }

    /// What `findall` gives for this match: the text, the one group, or a
    /// tuple of the groups ('' for one that did not take part).
    fn findall_item(&self) -> Value {
        let empty = Value::from("");
        match self.spans.len() {
            1 => self.value(0, &empty),
            2 => self.value(1, &empty),
            n => Value::from((1..n).map(|i| self.value(i, &empty)).collect::<Vec<_>>()),
        }
    }
}

impl Object for Found {
    /// A match is true, as in Python, whatever it matched.
    fn is_true(self: &Arc<Self>) -> bool {
        true
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        if key.as_str().is_none() {
            return self
                .index(key)
                .ok()
                .map(|i| self.value(i, &Value::from(())));
        }
        match key.as_str()? {
            "string" => Some(Value::from(self.text.to_string())),
            "pos" => Some(Value::from(0)),
            "endpos" => Some(Value::from(self.position(self.text.len()))),
            "lastindex" => Some(
                (1..self.spans.len())
                    .filter(|&i| self.spans[i].is_some())
                    .max_by_key(|&i| self.spans[i].map(|(_, e)| e))
                    .map_or(Value::from(()), Value::from),
            ),
            _ => None,
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let none = Value::from(());
        let first = || args.first().cloned().unwrap_or(Value::from(0));
        match method {
            "group" => match args {
                [] => Ok(self.value(0, &none)),
                [one] => Ok(self.value(self.index(one)?, &none)),
                many => Ok(Value::from(
                    many.iter()
                        .map(|g| Ok(self.value(self.index(g)?, &none)))
                        .collect::<Result<Vec<_>, Error>>()?,
                )),
            },
            "groups" => {
                let default = bind("groups", args, &["default"])?[0]
                    .clone()
                    .unwrap_or(none);
                Ok(Value::from(
                    (1..self.spans.len())
                        .map(|i| self.value(i, &default))
                        .collect::<Vec<_>>(),
                ))
            }
            "groupdict" => {
                let default = bind("groupdict", args, &["default"])?[0]
                    .clone()
                    .unwrap_or(none);
                Ok(Value::from(
                    self.names
                        .iter()
                        .enumerate()
                        .filter_map(|(i, n)| Some((n.clone()?, self.value(i, &default))))
                        .collect::<BTreeMap<_, _>>(),
                ))
            }
            "start" | "end" | "span" => {
                let i = self.index(&first())?;
                let span = self.spans[i].map(|(s, e)| (self.position(s), self.position(e)));
                let (s, e) = span.map_or((-1, -1), |(s, e)| (s as i64, e as i64));
                Ok(match method {
                    "start" => Value::from(s),
                    "end" => Value::from(e),
                    _ => Value::from(vec![Value::from(s), Value::from(e)]),
                })
            }
            "expand" => Ok(Value::from(
                self.expand(&parse_template(&text_of(args.first()))?)?,
            )),
            _ => Err(Error::from(minijinja::ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (s, e) = self.spans[0].expect("group 0");
        write!(
            f,
            "<re.Match object; span=({}, {}), match='{}'>",
            self.position(s),
            self.position(e),
            &self.text[s..e]
        )
    }
}

/// `modules.re` itself: its functions and flag constants.
#[derive(Debug)]
struct ReModule;

impl Object for ReModule {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let flag = match key.as_str()? {
            "I" | "IGNORECASE" => IGNORECASE,
            "L" | "LOCALE" => LOCALE,
            "M" | "MULTILINE" => MULTILINE,
            "S" | "DOTALL" => DOTALL,
            "U" | "UNICODE" => UNICODE,
            "X" | "VERBOSE" => VERBOSE,
            "A" | "ASCII" => ASCII,
            "NOFLAG" => 0,
            _ => return None,
        };
        Some(Value::from(flag))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&[
            "IGNORECASE",
            "MULTILINE",
            "DOTALL",
            "VERBOSE",
            "ASCII",
            "UNICODE",
        ])
    }

    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        call(state, method, args)
    }
}

/// A function of `re`, its pattern first.
fn call(state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
    let text = |v: &Option<Value>| text_of(v.as_ref());
    let need = |v: &Option<Value>, what: &str| {
        v.clone()
            .ok_or_else(|| py_error("TypeError", format!("{method}() missing argument '{what}'")))
    };
    let number = |v: &Option<Value>| {
        given(v)
            .and_then(|v| i64::try_from(v.clone()).ok())
            .unwrap_or(0)
    };
    match method {
        "match" | "search" | "fullmatch" => {
            let a = bind(method, args, &["pattern", "string", "flags"])?;
            let pattern = Pattern::of(&need(&a[0], "pattern")?, a[2].as_ref())?;
            pattern.find(method, &text(&Some(need(&a[1], "string")?)))
        }
        "findall" | "finditer" => {
            let a = bind(method, args, &["pattern", "string", "flags"])?;
            let pattern = Pattern::of(&need(&a[0], "pattern")?, a[2].as_ref())?;
            let found = pattern.matches(&Arc::from(text(&a[1])), 0)?;
            Ok(Value::from(
                found
                    .into_iter()
                    .map(|m| match method {
                        "findall" => m.findall_item(),
                        _ => Value::from_object(m),
                    })
                    .collect::<Vec<_>>(),
            ))
        }
        "sub" | "subn" => {
            let a = bind(
                method,
                args,
                &["pattern", "repl", "string", "count", "flags"],
            )?;
            let pattern = Pattern::of(&need(&a[0], "pattern")?, a[4].as_ref())?;
            let count = usize::try_from(number(&a[3])).unwrap_or(0);
            let (out, n) = pattern.sub(state, &need(&a[1], "repl")?, &text(&a[2]), count)?;
            Ok(match method {
                "sub" => Value::from(out),
                _ => Value::from(vec![Value::from(out), Value::from(n)]),
            })
        }
        "split" => {
            let a = bind(method, args, &["pattern", "string", "maxsplit", "flags"])?;
            let pattern = Pattern::of(&need(&a[0], "pattern")?, a[3].as_ref())?;
            let text: Arc<str> = Arc::from(text(&a[1]));
            let limit = usize::try_from(number(&a[2])).unwrap_or(0);
            let mut parts = Vec::new();
            let mut last = 0;
            for m in pattern.matches(&text, limit)? {
                let (start, end) = m.spans[0].expect("group 0");
                parts.push(Value::from(&text[last..start]));
                parts.extend((1..m.spans.len()).map(|i| m.value(i, &Value::from(()))));
                last = end;
            }
            parts.push(Value::from(&text[last..]));
            Ok(Value::from(parts))
        }
        "compile" => {
            let a = bind(method, args, &["pattern", "flags"])?;
            let pattern = Pattern::of(&need(&a[0], "pattern")?, a[1].as_ref())?;
            // A pattern Python would refuse is refused here, where it is made.
            pattern.regex("")?;
            Ok(Value::from_object(pattern))
        }
        "escape" => {
            let a = bind(method, args, &["pattern"])?;
            let mut out = String::new();
            for c in text(&a[0]).chars() {
                if "()[]{}?*+-|^$\\.&~# \t\n\r\x0b\x0c".contains(c) {
                    out.push('\\');
                }
                out.push(c);
            }
            Ok(Value::from(out))
        }
        "purge" => Ok(Value::from(())),
        _ => Err(Error::from(minijinja::ErrorKind::UnknownMethod)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str) -> String {
        let mut env = minijinja::Environment::new();
        env.add_global("re", module());
        env.render_str(source, ()).unwrap()
    }

    // Each expected answer is what Python 3's `re` gives.

    #[test]
    fn braces_that_are_no_repetition_are_characters() {
        assert_eq!(
            render(
                r"{{ re.findall('{{\s*ref\(([^)]+)\)\s*}}', 'from {{ ref(a) }} join {{ref(b)}}') }}"
            ),
            "['a', 'b']"
        );
        assert_eq!(render("{{ re.sub('a{2}', '-', 'aaa{}') }}"), "-a{}");
        assert_eq!(render("{{ re.sub('a{,2}b', '-', 'aab') }}"), "-");
        assert_eq!(render("{{ re.sub('x{a}', '-', 'x{a}') }}"), "-");
        assert_eq!(render("{{ re.sub('{', '(', '{}') }}"), "(}");
    }

    #[test]
    fn verbose_mode_strips_as_python_does() {
        // Whitespace in a class is kept; an escaped space and `#` are characters.
        let pattern = "(?ix)\n  (from|join) \\s+  # the keyword\n  ([\\w ]+) \\# \\ x";
        let out = render(&format!(
            "{{{{ re.findall({pattern:?}, 'FROM my table # x') }}}}"
        ));
        assert_eq!(out, "[['FROM', 'my table ']]");
        assert_eq!(
            render("{{ re.findall('a b # c', 'ab', re.VERBOSE) }}"),
            "['ab']"
        );
    }

    #[test]
    fn lookaround_and_backreferences() {
        assert_eq!(
            render(r"{{ re.findall('\w+(?=\s|$)', 'a b, c') }}"),
            "['a', 'c']"
        );
        assert_eq!(render(r"{{ re.findall('(?<!x)y', 'xy zy') }}"), "['y']");
        assert_eq!(
            render(r"{{ re.sub('(\w)\\1', '<\\1>', 'aabcc') }}"),
            "<a>b<c>"
        );
        assert_eq!(
            render(r"{{ re.search('(?P<q>\w)-(?P=q)', 'a-b c-c').group() }}"),
            "c-c"
        );
    }

    #[test]
    fn findall_gives_the_groups() {
        assert_eq!(render(r"{{ re.findall('\d', 'a1b2') }}"), "['1', '2']");
        assert_eq!(render(r"{{ re.findall('(\d)x', '1x2y3x') }}"), "['1', '3']");
        assert_eq!(
            render(r"{{ re.findall('(\d)(x)?', '1x2') }}"),
            "[['1', 'x'], ['2', '']]"
        );
        assert_eq!(render("{{ re.findall('x*', 'axb') }}"), "['', 'x', '', '']");
    }

    #[test]
    fn sub_reads_pythons_template() {
        assert_eq!(
            render(r"{{ re.sub('(a)(b)', '\g<2>\g<1>\\2', 'ab ab') }}"),
            "bab bab"
        );
        assert_eq!(
            render(r"{{ re.sub('(?P<w>\w+)', '[\g<w>]', 'hi yo', 1) }}"),
            "[hi] yo"
        );
        assert_eq!(render(r"{{ re.sub('b', '\\\\n', 'abc') }}"), "a\\nc");
        assert_eq!(render(r"{{ re.sub('(x)?b', '[\\1]', 'ab') }}"), "a[]");
        assert_eq!(
            render("{{ re.subn('a', 'b', 'aaa', count=2) }}"),
            "['bba', 2]"
        );
        assert_eq!(render("{{ re.sub('$', '!', 'a\n') }}"), "a!\n!");
    }

    #[test]
    fn flags_as_constants_and_inline() {
        assert_eq!(
            render("{{ re.sub('A', '-', 'aA', flags=re.IGNORECASE) }}"),
            "--"
        );
        assert_eq!(
            render("{{ re.findall('^\\w', 'a\nb', re.MULTILINE) }}"),
            "['a', 'b']"
        );
        assert_eq!(render("{{ re.findall('^\\w', 'a\nb') }}"), "['a']");
        assert_eq!(
            render("{{ re.search('a.b', 'a\nb', re.DOTALL) is none }}"),
            "False"
        );
        assert_eq!(render("{{ re.search('a.b', 'a\nb') is none }}"), "True");
        assert_eq!(
            render("{{ re.search('(?i)(?s)A.B', 'xa\nb').group() }}"),
            "a\nb"
        );
        assert_eq!(render("{{ re.IGNORECASE + re.MULTILINE }}"), "10");
    }

    #[test]
    fn match_objects() {
        let m = "{% set m = re.search('(é)(x)?(?P<n>c)', 'aébc éc') %}";
        assert_eq!(
            render(&format!(
                "{m}{{{{ m.group() }}}} {{{{ m.group(1) }}}} {{{{ m.group('n') }}}} {{{{ m.groups() }}}} {{{{ m.start() }}}} {{{{ m.end(3) }}}} {{{{ m.span(2) }}}} {{{{ m[0] }}}}"
            )),
            "éc é c ['é', None, 'c'] 5 7 [-1, -1] éc"
        );
        assert_eq!(render("{{ re.match('b', 'ab') is none }}"), "True");
        assert_eq!(
            render("{{ 'yes' if re.search('a', 'ba') else 'no' }}"),
            "yes"
        );
        assert_eq!(
            render("{{ 'yes' if not re.search('x', 'ba') else 'no' }}"),
            "yes"
        );
        assert_eq!(render("{{ re.match('a|ab', 'ab').group() }}"), "a");
        assert_eq!(render("{{ re.fullmatch('a|ab', 'ab').group() }}"), "ab");
        assert_eq!(render("{{ re.fullmatch('a', 'a\n') is none }}"), "True");
        assert_eq!(
            render("{{ re.match('(a)(b)', 'ab').groups() | join('-') }}"),
            "a-b"
        );
    }

    #[test]
    fn compile_split_escape() {
        assert_eq!(
            render(r"{% set p = re.compile('(,)\s*') %}{{ p.split('a, b,c') }} {{ p.pattern }}"),
            r"['a', ',', 'b', ',', 'c'] (,)\s*"
        );
        assert_eq!(render("{{ re.split(',', 'a,b,c', 1) }}"), "['a', 'b,c']");
        assert_eq!(render("{{ re.escape('a.b-c d_e') }}"), "a\\.b\\-c\\ d_e");
        assert_eq!(
            render("{{ re.compile('x', re.I).findall('xX') }}"),
            "['x', 'X']"
        );
    }
}
