//! The registry of every macro by package and name, and dbt's rules for
//! finding one: unqualified lookup, `package.name`, `adapter.dispatch`.

use std::collections::BTreeMap;

use super::{MacroDef, macro_names};

/// `adapter.dispatch` found no implementation: the adapter's prefix it tried
/// first, the macro's name, and the packages it searched. As a Jinja error it
/// is an undefined macro (K2002), as a call of an unknown macro is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "adapter.dispatch: no macro named '{adapter}__{name}' or 'default__{name}' in {}",
    .searched.join(", ")
)]
pub struct DispatchMiss {
    pub adapter: String,
    pub name: String,
    /// The packages, in order; "the project, then dbt" for the unqualified lookup.
    pub searched: Vec<String>,
}

impl From<DispatchMiss> for minijinja::Error {
    fn from(miss: DispatchMiss) -> Self {
        minijinja::Error::new(minijinja::ErrorKind::UnknownFunction, miss.to_string())
    }
}

/// The message, for `minijinja::Error::new(kind, miss)`.
impl From<DispatchMiss> for std::borrow::Cow<'static, str> {
    fn from(miss: DispatchMiss) -> Self {
        miss.to_string().into()
    }
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
    ) -> Result<&MacroDef, DispatchMiss> {
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
        Err(DispatchMiss {
            adapter: self.adapter.clone(),
            name: name.to_string(),
            searched: search
                .iter()
                .map(|p| p.unwrap_or("the project, then dbt").to_string())
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> MacroRegistry {
        let mut registry = MacroRegistry {
            root: "shop".into(),
            adapter: "duckdb".into(),
            ..MacroRegistry::default()
        };
        registry.add_file(
            "macros/x.sql",
            "shop",
            "{% macro default__hash(x) %}md5({{ x }}){% endmacro %}",
        );
        registry.add_file(
            "utils/y.sql",
            "utils",
            "{% macro duckdb__width() %}1{% endmacro %}",
        );
        registry
    }

    #[test]
    fn dispatch_finds_the_adapters_implementation_then_the_default() {
        let registry = registry();
        let found = registry.dispatch("hash", None, "shop", None).unwrap();
        assert_eq!(found.name, "default__hash");
        let found = registry
            .dispatch("width", Some("utils"), "shop", None)
            .unwrap();
        assert_eq!(found.package, "utils");
    }

    #[test]
    fn a_dispatch_that_finds_nothing_says_what_it_searched() {
        let registry = registry();
        let miss = registry
            .dispatch("nothing", Some("utils"), "shop", None)
            .unwrap_err();
        assert_eq!(miss.searched, ["shop", "utils"]);
        assert_eq!(
            miss.to_string(),
            "adapter.dispatch: no macro named 'duckdb__nothing' or 'default__nothing' in shop, utils"
        );
        let error = minijinja::Error::from(miss);
        assert_eq!(error.kind(), minijinja::ErrorKind::UnknownFunction);
        let miss = registry
            .dispatch("nothing", None, "shop", None)
            .unwrap_err();
        assert_eq!(miss.searched, ["the project, then dbt"]);
    }
}
