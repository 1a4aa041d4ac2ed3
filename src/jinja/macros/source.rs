//! Reading and rewriting a macro file's source: the names it defines, its
//! definitions renamed to their local names (with defaults that name an earlier
//! parameter set inside the body), and dbt's `{% test %}` blocks as macros.

use std::sync::OnceLock;

use regex::Regex;

/// The names of the macros a file defines, in order.
pub fn macro_names(source: &str) -> Vec<String> {
    static MACRO: OnceLock<Regex> = OnceLock::new();
    let re = MACRO.get_or_init(|| {
        Regex::new(r"\{%[-+]?\s*macro\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(").expect("valid regex")
    });
    re.captures_iter(source).map(|c| c[1].to_string()).collect()
}

/// The name a macro is defined under inside its file's template. Renaming the
/// definitions keeps a call from one macro to another of the same file going
/// through the global callable (which gives `return()` its own slot) instead
/// of straight to the file-local macro.
pub fn local_name(name: &str) -> String {
    format!("__kiln_macro_{name}")
}

/// `source` with every `{% macro name(` renamed to its `local_name`.
pub fn rename_definitions(source: &str) -> String {
    static DEFINITION: OnceLock<Regex> = OnceLock::new();
    let re = DEFINITION.get_or_init(|| {
        Regex::new(r"(\{%[-+]?\s*macro\s+)([A-Za-z_][A-Za-z0-9_]*)(\s*\()").expect("valid regex")
    });
    let renamed = re
        .replace_all(source, |c: &regex::Captures<'_>| {
            format!("{}{}{}", &c[1], local_name(&c[2]), &c[3])
        })
        .into_owned();
    late_defaults(&renamed)
}

/// What a default that names an earlier parameter stands for until the
/// macro's body gives it its value.
const UNSET: &str = "'__kiln_unset__'";

/// `source` with each macro parameter whose default names an earlier
/// parameter (`name=schema_name`) given that default inside the macro, as
/// Jinja2 evaluates defaults at call time with the earlier arguments bound;
/// minijinja evaluates them outside. The signature keeps a placeholder and the
/// body starts by setting the parameter when the call left it out. Lines are
/// kept.
fn late_defaults(source: &str) -> String {
    static OPEN: OnceLock<Regex> = OnceLock::new();
    let open = OPEN.get_or_init(|| {
        Regex::new(r"\{%[-+]?\s*macro\s+[A-Za-z_][A-Za-z0-9_]*\s*\(").expect("valid regex")
    });
    let mut out = String::new();
    let mut last = 0;
    for m in open.find_iter(source) {
        if m.start() < last {
            continue;
        }
        let Some((params, close)) = signature(source, m.end()) else {
            continue;
        };
        let Some(tag_end) = source[close..].find("%}").map(|n| close + n + 2) else {
            continue;
        };
        let mut earlier: Vec<&str> = Vec::new();
        let mut late: Vec<(usize, usize, String, String)> = Vec::new();
        for (start, end) in params {
            let text = &source[start..end];
            let (name, default) = match text.split_once('=') {
                Some((n, d)) => (n.trim(), Some(d)),
                None => (text.trim(), None),
            };
            if let Some(default) = default
                && identifiers(default).iter().any(|w| earlier.contains(w))
            {
                let at = start + text.find('=').expect("has =") + 1;
                late.push((at, end, name.to_string(), default.trim().replace('\n', " ")));
            }
            earlier.push(name);
        }
        if late.is_empty() {
            continue;
        }
        out.push_str(&source[last..late[0].0]);
        for (i, (at, end, _, _)) in late.iter().enumerate() {
            if i > 0 {
                out.push_str(&source[late[i - 1].1..*at]);
            }
            out.push_str(UNSET);
            // The default's lines stay in the signature.
            out.push_str(&"\n".repeat(source[*at..*end].matches('\n').count()));
        }
        out.push_str(&source[late.last().expect("one").1..tag_end]);
        let trim = source[..tag_end].ends_with("-%}");
        for (i, (_, _, name, default)) in late.iter().enumerate() {
            let close = if trim && i + 1 == late.len() {
                "-%}"
            } else {
                "%}"
            };
            out.push_str(&format!(
                "{{% set {name} = ({default}) if {name} == {UNSET} else {name} {close}"
            ));
        }
        last = tag_end;
    }
    out.push_str(&source[last..]);
    out
}

/// The parameters of a macro's signature from `start` (after its `(`), as
/// spans, and where its `)` is; strings and brackets are skipped.
fn signature(source: &str, start: usize) -> Option<(Vec<(usize, usize)>, usize)> {
    let bytes = source.as_bytes();
    let mut params = Vec::new();
    let mut depth = 0;
    let mut quote: Option<u8> = None;
    let mut from = start;
    let mut i = start;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'\'' | b'"' => quote = Some(b),
                b'(' | b'[' | b'{' => depth += 1,
                b')' if depth == 0 => {
                    if !source[from..i].trim().is_empty() {
                        params.push((from, i));
                    }
                    return Some((params, i + 1));
                }
                b')' | b']' | b'}' => depth -= 1,
                b',' if depth == 0 => {
                    params.push((from, i));
                    from = i + 1;
                }
                b'%' if bytes.get(i + 1) == Some(&b'}') => return None,
                _ => {}
            },
        }
        i += 1;
    }
    None
}

/// The names an expression reads, outside its strings (`a.b` reads `a`).
fn identifiers(expr: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut quote: Option<char> = None;
    let mut start: Option<usize> = None;
    let mut prev = ' ';
    for (i, c) in expr.char_indices() {
        if let Some(q) = quote {
            if c == q && prev != '\\' {
                quote = None;
            }
            prev = c;
            continue;
        }
        let word = c.is_alphanumeric() || c == '_';
        match (word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if !expr[..s].ends_with('.') {
                    names.push(&expr[s..i]);
                }
                start = None;
            }
            _ => {}
        }
        if c == '\'' || c == '"' {
            quote = Some(c);
        }
        prev = c;
    }
    if let Some(s) = start
        && !expr[..s].ends_with('.')
    {
        names.push(&expr[s..]);
    }
    names
}

/// `source` with dbt's `{% test name(...) %}...{% endtest %}` blocks turned
/// into the macros they stand for: `{% macro test_name(...) %}...{% endmacro %}`.
/// Lines are kept, so errors point at the line the user wrote.
pub fn test_blocks_to_macros(source: &str) -> String {
    static TEST: OnceLock<Regex> = OnceLock::new();
    static END: OnceLock<Regex> = OnceLock::new();
    if !source.contains("test") {
        return source.to_string();
    }
    let test = TEST.get_or_init(|| {
        Regex::new(r"(\{%[-+]?\s*)test(\s+)([A-Za-z_][A-Za-z0-9_]*)(\s*\()").expect("valid regex")
    });
    let end =
        END.get_or_init(|| Regex::new(r"(\{%[-+]?\s*)endtest(\s*[-+]?%\})").expect("valid regex"));
    let renamed = test.replace_all(source, "${1}macro${2}test_${3}${4}");
    end.replace_all(&renamed, "${1}endmacro${2}").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_definitions_but_not_calls() {
        let src =
            "{% macro a(x) %}{{ b(x) }}{% endmacro %}{%- macro b(y) -%}{{ y }}{%- endmacro %}";
        assert_eq!(
            rename_definitions(src),
            "{% macro __kiln_macro_a(x) %}{{ b(x) }}{% endmacro %}{%- macro __kiln_macro_b(y) -%}{{ y }}{%- endmacro %}"
        );
    }

    #[test]
    fn defaults_naming_earlier_parameters_are_set_in_the_body() {
        let src = "{% macro g(schema_name, db=target.database, name=schema_name,\n  n='x') -%}\n{{ name }}{%- endmacro %}";
        assert_eq!(
            rename_definitions(src),
            "{% macro __kiln_macro_g(schema_name, db=target.database, name='__kiln_unset__',\n  n='x') -%}\
             {% set name = (schema_name) if name == '__kiln_unset__' else name -%}\n{{ name }}{%- endmacro %}"
        );
        // Names inside strings and attributes are no parameters.
        let plain = "{% macro h(a, b='a', c=x.a) %}{% endmacro %}";
        assert_eq!(
            rename_definitions(plain),
            "{% macro __kiln_macro_h(a, b='a', c=x.a) %}{% endmacro %}"
        );
    }

    #[test]
    fn test_blocks_become_macros() {
        let src = "{% test is_positive(model, column_name) %}\nselect 1\n{%- endtest %}";
        assert_eq!(
            test_blocks_to_macros(src),
            "{% macro test_is_positive(model, column_name) %}\nselect 1\n{%- endmacro %}"
        );
        assert_eq!(
            macro_names(&test_blocks_to_macros(src)),
            vec!["test_is_positive"]
        );
    }

    #[test]
    fn finds_macro_names_with_whitespace_control() {
        let src = "{% macro a(x) %}{% endmacro %}\n{%- macro b_2() -%}{%- endmacro %}";
        assert_eq!(macro_names(src), vec!["a", "b_2"]);
    }
}
