//! Calling a generic test's macro (`test_not_null`, a project's own
//! `{% test %}`) with the arguments its properties file gives, rendered as dbt
//! renders them: a string that is a call of `ref`, `source`, `var`, `env_var`
//! or `doc` (`to: ref('customers')`), or that is one `{{ expression }}`, is
//! evaluated to its value; other strings with Jinja are rendered to text;
//! `column_name` is left as written.
//!
//! The SQL itself is Jinja in `templates/tests/` (the generic tests, the
//! relation they read, the test materialization): this file only calls the
//! macro a test names.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use minijinja::value::{Kwargs, Value};
use regex::Regex;
use serde_json::Value as Json;

use super::JinjaEnv;
use super::python_compat::mutable_literals;
use super::render::with_context;

/// The SQL of the generic test `macro_name` called with `kwargs`, in `ctx`.
pub fn render_generic_test(
    env: &JinjaEnv,
    macro_name: &str,
    kwargs: &BTreeMap<String, Json>,
    ctx: &Value,
) -> Result<String, minijinja::Error> {
    with_context(ctx, || {
        let mut rendered: Vec<(String, Value)> = Vec::with_capacity(kwargs.len());
        for (key, value) in kwargs {
            let value = if key == "column_name" {
                super::json_value(value)
            } else {
                render_argument(env, value, ctx)?
            };
            rendered.push((key.clone(), value));
        }
        let kwargs: Kwargs = rendered.into_iter().collect();
        let sql = env.call_macro(macro_name, ctx, &[Value::from(kwargs)])?;
        Ok(sql.to_string())
    })
}

fn render_argument(env: &JinjaEnv, value: &Json, ctx: &Value) -> Result<Value, minijinja::Error> {
    match value {
        Json::String(text) => render_string(env, text, ctx),
        Json::Array(items) => items
            .iter()
            .map(|item| render_argument(env, item, ctx))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::from),
        Json::Object(map) => {
            let mut out = BTreeMap::new();
            for (k, v) in map {
                out.insert(k.clone(), render_argument(env, v, ctx)?);
            }
            Ok(Value::from_object(out))
        }
        other => Ok(super::json_value(other)),
    }
}

fn render_string(env: &JinjaEnv, text: &str, ctx: &Value) -> Result<Value, minijinja::Error> {
    static CALL: OnceLock<Regex> = OnceLock::new();
    static EXPRESSION: OnceLock<Regex> = OnceLock::new();
    let call = CALL.get_or_init(|| {
        Regex::new(r"^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$").expect("valid regex")
    });
    let expression =
        EXPRESSION.get_or_init(|| Regex::new(r"^\s*\{\{(.*)\}\}\s*$").expect("valid regex"));
    if call.is_match(text) {
        return env
            .env
            .compile_expression(&python_expression(text))?
            .eval(ctx.clone());
    }
    if let Some(inner) = expression.captures(text).map(|c| c[1].to_string())
        && !inner.contains("}}")
        && !inner.contains("{{")
    {
        return env
            .env
            .compile_expression(&python_expression(&inner))?
            .eval(ctx.clone());
    }
    if text.contains("{{") || text.contains("{%") {
        // As a node's code renders: list literals that `append`, date
        // arithmetic (`date.today() - timedelta(2)`).
        return env
            .env
            .render_str(&mutable_literals(text), ctx.clone())
            .map(Value::from);
    }
    Ok(Value::from(text))
}

/// An expression rewritten as a node's `{{ }}` is (see [`mutable_literals`]).
fn python_expression(expression: &str) -> String {
    let wrapped = format!("{{{{ {expression} }}}}");
    let rewritten = mutable_literals(&wrapped);
    rewritten
        .strip_prefix("{{")
        .and_then(|r| r.strip_suffix("}}"))
        .unwrap_or(expression)
        .to_string()
}

/// The parameters of a macro as its definition writes them: each name, and
/// whether it has a default. `None` when the definition cannot be read.
pub fn macro_params(env: &JinjaEnv, name: &str, package: &str) -> Option<MacroParams> {
    let def = env.macros.find(name, package)?;
    let name = def.name.as_str();
    let source = env
        .env
        .get_template(&def.template)
        .ok()?
        .source()
        .to_string();
    let local = super::macros::local_name(name);
    let start = source.find(&format!("{local}("))? + local.len() + 1;
    let mut depth = 0usize;
    let mut end = None;
    let mut quote: Option<char> = None;
    for (i, c) in source[start..].char_indices() {
        // Commas and parentheses inside a string default are text.
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' if depth == 0 => {
                end = Some(start + i);
                break;
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    let end = end?;
    let signature = &source[start..end];
    let body_end = source[end..]
        .find("endmacro")
        .map(|i| end + i)
        .unwrap_or(source.len());
    let body = &source[end..body_end];
    let mut params = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in signature.chars().chain(std::iter::once(',')) {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            current.push(c);
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if c == ',' && depth == 0 {
            let part = current.trim();
            if !part.is_empty() {
                let (name, has_default) = match part.split_once('=') {
                    Some((n, _)) => (n.trim(), true),
                    None => (part, false),
                };
                params.push((name.to_string(), has_default));
            }
            current.clear();
        } else {
            current.push(c);
        }
    }
    Some(MacroParams {
        params,
        takes_kwargs: body.contains("kwargs"),
    })
}

/// A macro's signature.
#[derive(Debug, Clone, PartialEq)]
pub struct MacroParams {
    /// Each parameter, and whether it has a default.
    pub params: Vec<(String, bool)>,
    /// The body reads `kwargs`, so any keyword argument is accepted.
    pub takes_kwargs: bool,
}
