//! Printing diagnostics three ways: for a person at a terminal (miette's
//! graphical report, with the offending line and a caret), as one JSON object
//! a line (`--log-format json`), and as GitHub Actions workflow commands
//! (`::error file=...,line=...::`). Everything printed passes through
//! `secrets::redact`, and a snippet of profiles.yml never shows a password.

use std::fmt;
use std::path::Path;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

use super::{Diagnostic, Severity};
use crate::secrets;

/// Width the terminal report wraps at.
const WIDTH: usize = 100;

/// The report a person reads: the code, the message, the source line with a
/// caret under the span, then help and notes.
pub fn human(diagnostic: &Diagnostic, color: bool) -> String {
    let view = View::new(diagnostic);
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(WIDTH)
        .with_links(false);
    let mut out = String::new();
    if handler.render_report(&mut out, &view).is_err() {
        return format!("{}: {}", diagnostic.severity, view.message);
    }
    out
}

/// One JSON object, on one line.
pub fn json(diagnostic: &Diagnostic) -> String {
    let location = diagnostic.location.as_ref();
    let value = serde_json::json!({
        "level": diagnostic.severity,
        "code": diagnostic.code.as_str(),
        "message": secrets::redact(&diagnostic.message),
        "file": location.map(|l| l.file.display().to_string()),
        "line": location.and_then(|l| l.line),
        "column": location.and_then(|l| l.column),
        "help": diagnostic.help.as_deref().map(secrets::redact),
        "notes": diagnostic.notes.iter().map(|n| secrets::redact(n)).collect::<Vec<_>>(),
    });
    value.to_string()
}

/// A GitHub Actions workflow command, which the Actions runner shows as an
/// annotation on the file and line.
pub fn github(diagnostic: &Diagnostic) -> String {
    let command = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut properties = Vec::new();
    if let Some(location) = &diagnostic.location {
        properties.push(format!(
            "file={}",
            escape_property(&location.file.display().to_string())
        ));
        if let Some(line) = location.line {
            properties.push(format!("line={line}"));
        }
        if let Some(column) = location.column {
            properties.push(format!("col={column}"));
        }
    }
    properties.push(format!("title=kiln {}", diagnostic.code));
    let mut message = secrets::redact(&diagnostic.message);
    for extra in diagnostic.help.iter().chain(&diagnostic.notes) {
        message.push('\n');
        message.push_str(&secrets::redact(extra));
    }
    format!(
        "::{command} {}::{}",
        properties.join(","),
        escape_data(&message)
    )
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A diagnostic as miette sees it, with the source file read in.
struct View {
    message: String,
    severity: Severity,
    help: Option<String>,
    label: Option<String>,
    source: Option<NamedSource<String>>,
    span: Option<SourceSpan>,
}

impl View {
    fn new(d: &Diagnostic) -> View {
        let mut message = format!("{}[{}]: ", d.severity, d.code);
        let mut source = None;
        let mut span = None;
        if let Some(location) = &d.location {
            let snippet = location.line.and_then(|line| {
                let text = match &d.source_text {
                    Some(text) => secrets::redact(text),
                    None => read_source(&location.file)?,
                };
                let span = span_of(&text, line, location.column, location.length)?;
                Some(clip_long_lines(&text, span))
            });
            match snippet {
                Some((text, s)) => {
                    source = Some(NamedSource::new(location.file.display().to_string(), text));
                    span = Some(s);
                }
                None => message.push_str(&format!("{location}: ")),
            }
        }
        message.push_str(&d.message);
        for note in &d.notes {
            message.push_str("\n  ");
            message.push_str(note);
        }
        View {
            message: secrets::redact(&message),
            severity: d.severity,
            help: d.help.as_deref().map(secrets::redact),
            label: d.label.clone(),
            source,
            span,
        }
    }
}

impl fmt::Debug for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for View {}

impl miette::Diagnostic for View {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            self.label.clone(),
            span,
        ))))
    }
}

/// The file's text as it may be shown: secrets redacted, and the values of
/// password-like keys of a profiles.yml masked.
fn read_source(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let text = if path.file_name().is_some_and(|n| n == "profiles.yml") {
        mask_profile_secrets(&text)
    } else {
        text
    };
    Some(secrets::redact(&text))
}

fn mask_profile_secrets(text: &str) -> String {
    super::profile_mask::mask(text)
}

/// The byte span of `length` characters from `column` on `line` (all 1-based);
/// without a column, the line's text from its first non-blank character.
fn span_of(
    text: &str,
    line: usize,
    column: Option<usize>,
    length: Option<usize>,
) -> Option<SourceSpan> {
    let mut start_of_line = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let content = l.trim_end_matches(['\n', '\r']);
            let (from, len) = match column {
                Some(column) => {
                    let from = char_offset(content, column.saturating_sub(1));
                    let len = match length {
                        Some(n) => char_offset(&content[from..], n).max(1),
                        None => 0,
                    };
                    (from, len)
                }
                None => {
                    let from = content.len() - content.trim_start().len();
                    (from, content.trim().len())
                }
            };
            return Some(SourceSpan::new((start_of_line + from).into(), len));
        }
        start_of_line += l.len();
    }
    None
}

/// Lines longer than this many bytes are shown in part (generated SQL has
/// lines of megabytes; miette's renderer cannot draw past column 65,535).
const LONG_LINE: usize = 400;

/// How much of a long line is kept on each side of the span.
const CONTEXT: usize = 120;

/// `text` with each line longer than [`LONG_LINE`] cut down: the span's own
/// line to a window around the span, the others to their start, each cut
/// marked with `…`. The span is moved to point at the same text; line
/// numbers are kept, and a span longer than the window is shortened.
fn clip_long_lines(text: &str, span: SourceSpan) -> (String, SourceSpan) {
    if text.split('\n').all(|l| l.len() <= LONG_LINE) {
        return (text.to_string(), span);
    }
    let (start, len) = (span.offset(), span.len());
    let mut out = String::with_capacity(text.len().min(1 << 20));
    let mut new_span = span;
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let line_end = line_start + line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        let ending = &line[content.len()..];
        let holds_span = start >= line_start && start <= line_start + content.len();
        if content.len() <= LONG_LINE {
            if holds_span {
                new_span = SourceSpan::new((out.len() + start - line_start).into(), len);
            }
            out.push_str(line);
        } else if holds_span {
            let at = start - line_start;
            let from = floor_boundary(content, at.saturating_sub(CONTEXT));
            let to = floor_boundary(
                content,
                (at + len.min(CONTEXT) + CONTEXT).min(content.len()),
            );
            if from > 0 {
                out.push('…');
            }
            let shown_len = len.min(to.saturating_sub(at));
            new_span = SourceSpan::new((out.len() + at - from).into(), shown_len);
            out.push_str(&content[from..to]);
            if to < content.len() {
                out.push('…');
            }
            out.push_str(ending);
        } else {
            out.push_str(&content[..floor_boundary(content, LONG_LINE)]);
            out.push('…');
            out.push_str(ending);
        }
        line_start = line_end;
    }
    (out, new_span)
}

/// The largest character boundary of `s` at or before `at`.
fn floor_boundary(s: &str, at: usize) -> usize {
    let mut at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The byte offset of the `n`th character of `s`, clamped to its end.
fn char_offset(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map(|(i, _)| i).unwrap_or(s.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Code;
    use crate::diagnostic::Location;

    #[test]
    fn github_annotation_escapes_newlines_and_names_the_place() {
        let d = Diagnostic::error(Code::UnknownReference, "no node 'x'\nsecond line")
            .at(Location::at("models/a,b.sql", 3, Some(7)))
            .with_help(Some("did you mean 'y'?".into()));
        assert_eq!(
            github(&d),
            "::error file=models/a%2Cb.sql,line=3,col=7,title=kiln K3001::no node 'x'%0Asecond line%0Adid you mean 'y'?"
        );
    }

    #[test]
    fn json_is_one_line_with_code_and_place() {
        let d = Diagnostic::warning(Code::UnknownKey, "unknown key").at(Location::at(
            "dbt_project.yml",
            4,
            None,
        ));
        let line = json(&d);
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["level"], "warning");
        assert_eq!(v["code"], "K1003");
        assert_eq!(v["line"], 4);
        assert_eq!(v["column"], serde_json::Value::Null);
    }

    #[test]
    fn span_covers_columns_in_characters() {
        let text = "one\n  héllo world\n";
        let span = span_of(text, 2, Some(3), Some(5)).unwrap();
        assert_eq!(&text[span.offset()..span.offset() + span.len()], "héllo");
        let whole = span_of(text, 2, None, None).unwrap();
        assert_eq!(
            &text[whole.offset()..whole.offset() + whole.len()],
            "héllo world"
        );
        assert!(span_of(text, 9, None, None).is_none());
    }

    #[test]
    fn long_lines_are_clipped_around_the_span() {
        let long = format!(
            "{}select bad_column{}\nnext line\n",
            "x".repeat(70_000),
            "y".repeat(70_000)
        );
        let span = span_of(&long, 1, Some(70_001), Some(17)).unwrap();
        let (text, span) = clip_long_lines(&long, span);
        assert!(text.len() < 1_000, "{}", text.len());
        assert_eq!(
            &text[span.offset()..span.offset() + span.len()],
            "select bad_column"
        );
        assert!(text.ends_with("next line\n"));
        let d = Diagnostic::error(Code::UnknownReference, "bad column").at(Location::at(
            "models/wide.sql",
            1,
            Some(70_001),
        )
        .spanning(17));
        let mut d = d;
        d.source_text = Some(long);
        let shown = human(&d, false);
        assert!(shown.contains("select bad_column"), "{shown}");
    }

    #[test]
    fn profile_passwords_are_masked() {
        let masked = mask_profile_secrets("  user: me\n  password: hunter2\n  db_token: abc\n");
        assert!(
            !masked.contains("hunter2") && !masked.contains("abc"),
            "{masked}"
        );
        assert!(masked.contains("user: me"));
    }
}
