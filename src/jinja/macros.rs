//! Macros: finding the macros a file defines, and calling them by name from any
//! template, with `return()` values and the caller's context.
//!
//! Each macro file is one template of the environment. A macro is exposed as a
//! global callable; calling it renders its file in the calling node's context
//! and calls the macro there. A project macro shadows kiln's built-in one of
//! the same name, as in dbt.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use minijinja::value::{Object, Value};
use minijinja::{Error, State};
use regex::Regex;

use super::functions::{RETURN_SIGNAL, with_return_slot};
use super::render::current_context;

/// Where a macro is defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroDef {
    pub name: String,
    /// The template (file) that defines it.
    pub template: String,
    /// `kiln` for built-ins, the project's name for the project's own.
    pub package: String,
}

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
    re.replace_all(source, |c: &regex::Captures<'_>| {
        format!("{}{}{}", &c[1], local_name(&c[2]), &c[3])
    })
    .into_owned()
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

/// Every macro by name; later additions shadow earlier ones.
#[derive(Debug, Default, Clone)]
pub struct MacroRegistry {
    pub macros: BTreeMap<String, MacroDef>,
}

impl MacroRegistry {
    pub fn add_file(&mut self, template: &str, package: &str, source: &str) {
        for name in macro_names(source) {
            self.macros.insert(
                name.clone(),
                MacroDef {
                    name,
                    template: template.to_string(),
                    package: package.to_string(),
                },
            );
        }
    }

    pub fn get(&self, name: &str) -> Option<&MacroDef> {
        self.macros.get(name)
    }

    /// True when the project defines `name` itself (it overrides kiln's).
    pub fn is_overridden(&self, name: &str) -> bool {
        self.macros
            .get(name)
            .is_some_and(|m| m.package != super::BUILTIN_PACKAGE)
    }
}

/// A macro as a callable Jinja value.
#[derive(Debug)]
pub struct MacroFunction {
    pub def: MacroDef,
}

impl Object for MacroFunction {
    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        call_macro(state.env(), &self.def, args)
    }
}

/// How deeply macros may call macros. Each call renders its file anew, so a
/// macro that calls itself without end would otherwise overflow the stack
/// (found by the fuzzer); dbt stops such a macro with a recursion error too.
pub const MAX_MACRO_DEPTH: usize = 64;

thread_local! {
    static DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Calls the macro `def` with `args` in the current node's context.
pub fn call_macro(
    env: &minijinja::Environment<'_>,
    def: &MacroDef,
    args: &[Value],
) -> Result<Value, Error> {
    let depth = DEPTH.with(|d| d.get());
    if depth >= MAX_MACRO_DEPTH {
        return Err(Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!(
                "macro '{}' is nested more than {MAX_MACRO_DEPTH} calls deep: does it call itself without end?",
                def.name
            ),
        ));
    }
    DEPTH.with(|d| d.set(depth + 1));
    let outcome = call_macro_at_depth(env, def, args);
    DEPTH.with(|d| d.set(depth));
    outcome
}

fn call_macro_at_depth(
    env: &minijinja::Environment<'_>,
    def: &MacroDef,
    args: &[Value],
) -> Result<Value, Error> {
    let template = env.get_template(&def.template)?;
    let ctx = current_context();
    let (result, returned) = with_return_slot(|| {
        let mut captured = template.render_captured(ctx)?;
        captured.with_state_mut(|s| s.call_macro(&local_name(&def.name), args))
    });
    match (result, returned) {
        (_, Some(value)) => Ok(value),
        (Ok(text), None) => Ok(Value::from_safe_string(text)),
        (Err(err), None) => {
            if err.detail() == Some(RETURN_SIGNAL) {
                Ok(Value::from(()))
            } else {
                Err(err)
            }
        }
    }
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
