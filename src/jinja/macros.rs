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

/// Every macro, by package and name, and dbt's rules for finding one.
#[derive(Debug, Default, Clone)]
pub struct MacroRegistry {
    /// Package name → macro name → where it is defined. kiln's built-ins are
    /// the package `dbt`.
    pub packages: BTreeMap<String, BTreeMap<String, MacroDef>>,
    /// The root project's name.
    pub root: String,
    /// `dispatch:` of the root project: namespace → packages to search.
    pub dispatch: BTreeMap<String, Vec<String>>,
    /// The adapter's name, the first prefix `adapter.dispatch` tries.
    pub adapter: String,
}

impl MacroRegistry {
    pub fn add_file(&mut self, template: &str, package: &str, source: &str) {
        let macros = self.packages.entry(package.to_string()).or_default();
        for name in macro_names(source) {
            macros.insert(
                name.clone(),
                MacroDef {
                    name,
                    template: template.to_string(),
                    package: package.to_string(),
                },
            );
        }
    }

    /// The macro `package.name`.
    pub fn in_package(&self, package: &str, name: &str) -> Option<&MacroDef> {
        self.packages.get(package)?.get(name)
    }

    /// An unqualified `name` called while rendering a node of `node_package`,
    /// from inside a macro of `macro_package` when there is one. dbt's order:
    /// the node's package, the root project, then kiln's built-ins; kiln
    /// also lets a package's macros call their siblings unqualified (before
    /// the built-ins), which dbt allows only for the package's own nodes.
    pub fn resolve(
        &self,
        name: &str,
        node_package: &str,
        macro_package: Option<&str>,
    ) -> Option<&MacroDef> {
        let mut order = vec![node_package, self.root.as_str()];
        if let Some(own) = macro_package {
            order.push(own);
        }
        order.push(super::BUILTIN_PACKAGE);
        order
            .into_iter()
            .find_map(|package| self.in_package(package, name))
    }

    /// A macro named `pkg.name` or `name`.
    pub fn find(&self, name: &str, node_package: &str) -> Option<&MacroDef> {
        match name.split_once('.') {
            Some((package, name)) => self.in_package(package, name),
            None => self.resolve(name, node_package, None),
        }
    }

    /// True when the root project defines `name` itself (it overrides kiln's).
    pub fn is_overridden(&self, name: &str) -> bool {
        self.in_package(&self.root, name).is_some()
    }

    /// Every macro name of any package, once each.
    pub fn names(&self) -> std::collections::BTreeSet<&str> {
        self.packages
            .values()
            .flat_map(|m| m.keys().map(String::as_str))
            .collect()
    }

    /// `adapter.dispatch(name, namespace)`: `<adapter>__name`, then
    /// `default__name`, in each package of the search order: the root
    /// project's `dispatch:` entry for the namespace, else the root project
    /// and the namespace's package when it is installed, else the unqualified
    /// lookup (the node's package, the root, the built-ins).
    pub fn dispatch(
        &self,
        name: &str,
        namespace: Option<&str>,
        node_package: &str,
        macro_package: Option<&str>,
    ) -> Result<&MacroDef, String> {
        let search: Vec<Option<&str>> = match namespace {
            None => vec![None],
            Some(ns) => match self.dispatch.get(ns) {
                Some(order) => order.iter().map(|p| Some(p.as_str())).collect(),
                None if ns != super::BUILTIN_PACKAGE && self.packages.contains_key(ns) => {
                    vec![Some(self.root.as_str()), Some(ns)]
                }
                None => vec![None],
            },
        };
        let prefixes = [self.adapter.as_str(), "default"];
        for package in &search {
            for prefix in prefixes {
                let candidate = format!("{prefix}__{name}");
                let found = match package {
                    Some(package) => self.in_package(package, &candidate),
                    None => self.resolve(&candidate, node_package, macro_package),
                };
                if let Some(def) = found {
                    return Ok(def);
                }
            }
        }
        let searched: Vec<String> = search
            .iter()
            .map(|p| p.unwrap_or("the project, then dbt").to_string())
            .collect();
        Err(format!(
            "adapter.dispatch: no macro named '{}__{name}' or 'default__{name}' in {}",
            self.adapter,
            searched.join(", ")
        ))
    }
}

thread_local! {
    /// The packages of the macros being called, innermost last.
    static MACRO_PACKAGES: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The package of the innermost macro being called, if any.
pub fn calling_macro_package() -> Option<String> {
    MACRO_PACKAGES.with(|p| p.borrow().last().cloned())
}

/// The package of the node being rendered (its context's `__kiln_package`),
/// or `root` outside a node.
pub fn node_package(root: &str) -> String {
    package_of(&current_context(), root)
}

/// The package of the node whose context is `ctx`, or `root` outside a node.
pub fn package_of(ctx: &Value, root: &str) -> String {
    ctx.get_attr(NODE_PACKAGE_KEY)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| root.to_string())
}

/// The context key holding the package of the node being rendered.
pub const NODE_PACKAGE_KEY: &str = "__kiln_package";

/// A macro as a callable Jinja value: one found by name at each call (an
/// unqualified name, resolved from where it is called), or one already
/// chosen (`pkg.name`, or what `adapter.dispatch` found).
#[derive(Debug)]
pub struct MacroFunction {
    pub name: String,
    pub def: Option<MacroDef>,
    pub registry: Arc<MacroRegistry>,
}

impl Object for MacroFunction {
    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let def = match &self.def {
            Some(def) => def,
            None => {
                let package = node_package(&self.registry.root);
                let own = calling_macro_package();
                self.registry
                    .resolve(&self.name, &package, own.as_deref())
                    .ok_or_else(|| {
                        Error::new(
                            minijinja::ErrorKind::UnknownFunction,
                            format!("macro '{}' is not defined", self.name),
                        )
                    })?
            }
        };
        call_macro(state.env(), def, args)
    }
}

/// A package's macros as `package.name`: `dbt_utils.star(...)`, `dbt.type_string()`.
#[derive(Debug)]
pub struct MacroNamespace {
    pub package: String,
    pub registry: Arc<MacroRegistry>,
}

impl Object for MacroNamespace {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        let def = self.registry.in_package(&self.package, name)?;
        Some(Value::from_object(MacroFunction {
            name: name.to_string(),
            def: Some(def.clone()),
            registry: self.registry.clone(),
        }))
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
    MACRO_PACKAGES.with(|p| p.borrow_mut().push(def.package.clone()));
    let outcome = call_macro_at_depth(env, def, args);
    MACRO_PACKAGES.with(|p| p.borrow_mut().pop());
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
        captured.with_state_mut(|s| {
            let name = local_name(&def.name);
            let (args, extra) = match s.lookup(&name) {
                Some(m) => split_extra_kwargs(&m, args),
                None => (args.to_vec(), Vec::new()),
            };
            EXTRA_KWARGS.with(|k| k.borrow_mut().push(extra));
            let outcome = s.call_macro(&name, &args);
            EXTRA_KWARGS.with(|k| k.borrow_mut().pop());
            outcome
        })
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

thread_local! {
    /// The keyword arguments each macro being called was given beyond its
    /// parameters, innermost last: its `kwargs`.
    static EXTRA_KWARGS: std::cell::RefCell<Vec<Vec<(String, Value)>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// `args` without the keyword arguments `macro_value` has no parameter
/// for, and those. Jinja2 gives a macro them as the dict `kwargs`
/// (`test_not_null_proportion(model, group_by_columns=[])` reads
/// `kwargs.get('at_least')`).
fn split_extra_kwargs(macro_value: &Value, args: &[Value]) -> (Vec<Value>, Vec<(String, Value)>) {
    let Some(Ok(kwargs)) = args.last().cloned().map(minijinja::value::Kwargs::try_from) else {
        return (args.to_vec(), Vec::new());
    };
    let parameters: Vec<String> = macro_value
        .get_attr("arguments")
        .ok()
        .and_then(|a| a.try_iter().ok())
        .map(|names| names.map(|n| n.to_string()).collect())
        .unwrap_or_default();
    let mut known = Vec::new();
    let mut extra = Vec::new();
    for key in kwargs.args() {
        let value: Value = kwargs.get(key).unwrap_or_default();
        if key == "caller" || parameters.iter().any(|p| p == key) {
            known.push((key.to_string(), value));
        } else {
            extra.push((key.to_string(), value));
        }
    }
    if extra.is_empty() {
        return (args.to_vec(), extra);
    }
    let mut args = args[..args.len() - 1].to_vec();
    if !known.is_empty() {
        args.push(Value::from(minijinja::value::Kwargs::from_iter(known)));
    }
    (args, extra)
}

/// `kwargs` inside a macro: the keyword arguments it was given beyond its
/// parameters, as a dict.
#[derive(Debug)]
pub struct MacroKwargs;

impl MacroKwargs {
    fn current() -> Vec<(String, Value)> {
        EXTRA_KWARGS.with(|k| k.borrow().last().cloned().unwrap_or_default())
    }
}

impl Object for MacroKwargs {
    fn repr(self: &Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        Self::current()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Values(
            Self::current()
                .into_iter()
                .map(|(k, _)| Value::from(k))
                .collect(),
        )
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let found = |key: &Value| self.get_value(key);
        match (method, args) {
            ("get", [key]) => Ok(found(key).unwrap_or(Value::from(()))),
            ("get", [key, default]) => Ok(found(key).unwrap_or(default.clone())),
            ("keys", []) => Ok(Value::from(
                Self::current()
                    .into_iter()
                    .map(|(k, _)| Value::from(k))
                    .collect::<Vec<_>>(),
            )),
            ("values", []) => Ok(Value::from(
                Self::current()
                    .into_iter()
                    .map(|(_, v)| v)
                    .collect::<Vec<_>>(),
            )),
            ("items", []) => Ok(Value::from(
                Self::current()
                    .into_iter()
                    .map(|(k, v)| Value::from(vec![Value::from(k), v]))
                    .collect::<Vec<_>>(),
            )),
            _ => Err(Error::new(
                minijinja::ErrorKind::UnknownMethod,
                format!("kwargs has no method '{method}'"),
            )),
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
