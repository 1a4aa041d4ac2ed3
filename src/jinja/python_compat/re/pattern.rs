//! A pattern with its flags, compiled for one text, and its methods
//! (`match`, `search`, `findall`, `sub`, ...).

use super::super::args::py_error;
use super::super::methods::text_of;
use super::found::Found;
use super::template::parse_template;
use super::translate::translate;
use super::{ASCII, DOTALL, IGNORECASE, LOCALE, MULTILINE, UNICODE, VERBOSE, call};
use fancy_regex::Regex;
use minijinja::value::{Object, Value};
use minijinja::{Error, State};
use std::sync::Arc;

/// A pattern with its flags, compiled for one text.
#[derive(Debug, Clone)]
pub(super) struct Pattern {
    pub(super) source: String,
    pub(super) flags: i64,
}

impl Pattern {
    /// The pattern an argument names: text, or a compiled pattern.
    pub(super) fn of(value: &Value, flags: Option<&Value>) -> Result<Self, Error> {
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

    pub(super) fn regex(&self, text: &str) -> Result<(Regex, Vec<Option<String>>), Error> {
        let translated = translate(&self.source, self.flags, text.ends_with('\n'))
            .map_err(|e| py_error("re.error", format!("{e} in {:?}", self.source)))?;
        let re = Regex::new(&translated)
            .map_err(|e| py_error("re.error", format!("{e} in {:?}", self.source)))?;
        let names = re.capture_names().map(|n| n.map(str::to_string)).collect();
        Ok((re, names))
    }

    /// Every match in `text` in turn, as Python finds them: an empty match
    /// is followed by a search one character on.
    pub(super) fn matches(&self, text: &Arc<str>, limit: usize) -> Result<Vec<Found>, Error> {
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
    pub(super) fn find(&self, how: &str, text: &str) -> Result<Value, Error> {
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
    pub(super) fn sub(
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
