//! Calling a macro: the callable Jinja values (`MacroFunction`,
//! `MacroNamespace`), the call itself with its depth limit and the stack of
//! calling packages, and the `kwargs` a macro is given beyond its parameters.

use std::sync::Arc;

use minijinja::value::{Object, Value};
use minijinja::{Error, ErrorKind, State};

use super::{MacroDef, MacroRegistry, local_name};
use crate::jinja::functions::{RETURN_SIGNAL, with_return_slot};
use crate::jinja::render::current_context;

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
    // Jinja2 gives a macro the keyword arguments beyond its parameters only
    // when its body reads `kwargs`; otherwise they are an error, as in dbt.
    let reads_kwargs = template.source().contains("kwargs");
    let ctx = current_context();
    let (result, returned) = with_return_slot(|| {
        let mut captured = template.render_captured(ctx)?;
        captured.with_state_mut(|s| {
            let name = local_name(&def.name);
            let (args, extra) = match s.lookup(&name) {
                Some(m) => split_extra_kwargs(&m, args),
                None => (args.to_vec(), Vec::new()),
            };
            if let (false, Some((key, _))) = (reads_kwargs, extra.first()) {
                return Err(Error::new(
                    ErrorKind::TooManyArguments,
                    format!("macro '{}' takes no keyword argument '{key}'", def.name),
                ));
            }
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
