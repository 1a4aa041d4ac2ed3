//! JUnit XML for test results (`--junit-xml PATH`), which CI systems show
//! as a test report: one `<testcase>` per data test and unit test, failures and errors
//! with dbt's message, warnings passing with the message kept.

use std::path::Path;

use crate::error::Result;
use crate::exec::{RunResults, Status};
use crate::files::write_file;
use crate::project::node::NodeKind;
use crate::secrets;

/// Writes the data tests and unit tests of `results` to `path` as JUnit XML.
pub fn write_junit(path: &Path, command: &str, results: &RunResults) -> Result<()> {
    let mut tests: Vec<_> = results
        .results
        .iter()
        .filter(|r| r.kind.is_test())
        .collect();
    tests.sort_by(|a, b| a.unique_id.cmp(&b.unique_id));
    let count = |statuses: &[Status]| {
        tests
            .iter()
            .filter(|r| statuses.contains(&r.status))
            .count()
    };
    let failures = count(&[Status::Fail]);
    let errors = count(&[Status::Error]);
    let skipped = count(&[Status::Skipped]);
    let time: f64 = tests.iter().map(|r| r.seconds).sum();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"kiln\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{time:.3}\">\n",
        tests.len()
    ));
    xml.push_str(&format!(
        "  <testsuite name=\"kiln {}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{time:.3}\">\n",
        escape(command),
        tests.len()
    ));
    for r in tests {
        let message = escape(&secrets::redact(&r.message));
        xml.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" time=\"{:.3}\"",
            escape(
                r.unique_id
                    .rsplit_once('.')
                    .map(|(c, _)| c)
                    .unwrap_or(&r.unique_id)
            ),
            escape(&r.name),
            escape(&r.file),
            r.seconds
        ));
        let body = match r.status {
            // A unit test's failure is its diff.
            Status::Fail if r.kind == NodeKind::UnitTest => format!(
                "      <failure type=\"fail\" message=\"unit test {} failed\">{message}</failure>\n",
                escape(&r.name)
            ),
            Status::Fail => format!(
                "      <failure type=\"fail\" message=\"{message}\">{}</failure>\n",
                failures_text(r.failures)
            ),
            Status::Error => format!("      <error type=\"error\" message=\"{message}\"/>\n"),
            Status::Skipped => format!("      <skipped message=\"{message}\"/>\n"),
            Status::Warn => format!("      <system-out>WARN: {message}</system-out>\n"),
            _ => String::new(),
        };
        if body.is_empty() {
            xml.push_str("/>\n");
        } else {
            xml.push_str(">\n");
            xml.push_str(&body);
            xml.push_str("    </testcase>\n");
        }
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    write_file(path, &xml)
}

fn failures_text(failures: Option<i64>) -> String {
    match failures {
        Some(n) => format!("{n} failing row{}", if n == 1 { "" } else { "s" }),
        None => String::new(),
    }
}

/// Text as XML attribute or element content.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn xml_special_characters_are_escaped() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
        assert_eq!(escape("bell\u{7}"), "bell");
    }
}
