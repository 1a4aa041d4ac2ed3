//! Names that several packages may share, found in dbt's search order
//! (`_packages_to_search`): a package named in the call, else the root
//! project, then the calling node's own package, then any other package
//! (the first by package name).

use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct ByPackage<T> {
    by_name: BTreeMap<String, BTreeMap<String, T>>,
}

impl<T> Default for ByPackage<T> {
    fn default() -> Self {
        ByPackage {
            by_name: BTreeMap::new(),
        }
    }
}

impl<T> ByPackage<T> {
    /// Adds (or replaces) `name` of `package`.
    pub fn insert(&mut self, package: &str, name: &str, value: T) {
        self.by_name
            .entry(name.to_string())
            .or_default()
            .insert(package.to_string(), value);
    }

    /// `name` as seen from a node of `calling` in a project whose root is
    /// `root`; `package` when the call names one (`ref('pkg', 'name')`).
    pub fn find(&self, name: &str, package: Option<&str>, calling: &str, root: &str) -> Option<&T> {
        let packages = self.by_name.get(name)?;
        match package {
            Some(package) => packages.get(package),
            None => packages
                .get(root)
                .or_else(|| packages.get(calling))
                .or_else(|| packages.values().next()),
        }
    }

    /// [`ByPackage::find`], to change what it finds.
    pub fn find_mut(
        &mut self,
        name: &str,
        package: Option<&str>,
        calling: &str,
        root: &str,
    ) -> Option<&mut T> {
        let packages = self.by_name.get_mut(name)?;
        let key = match package {
            Some(package) => package.to_string(),
            None => [root, calling]
                .into_iter()
                .find(|p| packages.contains_key(*p))
                .map(str::to_string)
                .or_else(|| packages.keys().next().cloned())?,
        };
        packages.get_mut(&key)
    }

    /// Every name, for did-you-mean help.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name
            .iter()
            .filter(|(_, p)| !p.is_empty())
            .map(|(n, _)| n.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_the_root_then_the_callers_package_then_any() {
        let mut names = ByPackage::default();
        names.insert("shop", "orders", 1);
        names.insert("pkg", "orders", 2);
        names.insert("pkg", "calendar", 3);
        assert_eq!(names.find("orders", None, "shop", "shop"), Some(&1));
        // As dbt: the root project's model wins even for a package's node.
        assert_eq!(names.find("orders", None, "pkg", "shop"), Some(&1));
        assert_eq!(names.find("calendar", None, "pkg", "shop"), Some(&3));
        assert_eq!(names.find("orders", None, "other", "shop"), Some(&1));
        assert_eq!(names.find("calendar", None, "shop", "shop"), Some(&3));
        assert_eq!(names.find("orders", Some("pkg"), "shop", "shop"), Some(&2));
        assert_eq!(names.find("calendar", Some("shop"), "shop", "shop"), None);
        *names.find_mut("calendar", None, "shop", "shop").unwrap() = 4;
        assert_eq!(
            names.find("calendar", Some("pkg"), "shop", "shop"),
            Some(&4)
        );
        assert!(names.find_mut("nothing", None, "shop", "shop").is_none());
    }
}
