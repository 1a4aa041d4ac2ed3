//! The dbt package hub: which version of a `package: namespace/name` entry
//! to install, and where its tarball is. The index is fetched with the
//! system `curl` (as git packages are cloned with the system `git`), from
//! `https://hub.getdbt.com/api/v1` or `$KILN_PACKAGE_HUB`.

use std::cmp::Ordering;

use serde_json::Value as Json;

/// The hub's address; `$KILN_PACKAGE_HUB` replaces it (a mirror, or a
/// `file://` folder laid out as the hub's API is).
pub fn base_url() -> String {
    std::env::var("KILN_PACKAGE_HUB").unwrap_or_else(|_| "https://hub.getdbt.com/api/v1".into())
}

/// Why the hub cannot give a version of a package. `kiln deps` reports it as
/// a config error (K1004) at the package's entry in packages.yml.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HubError {
    #[error("'{0}' is not a version range")]
    NotARange(String),
    #[error("the hub's index of {0} lists no versions")]
    NoVersions(String),
    /// No version satisfies every range; `newest` are the hub's, newest first.
    #[error(
        "no version of {name} satisfies {} (the hub has {})",
        any_range(.ranges),
        .newest.join(", ")
    )]
    NoneSatisfies {
        name: String,
        ranges: Vec<String>,
        newest: Vec<String>,
    },
    #[error("the hub's index of {name} {version} has no tarball")]
    NoTarball { name: String, version: Version },
}

fn any_range(ranges: &[String]) -> String {
    if ranges.is_empty() {
        "any range".into()
    } else {
        ranges.join(", ")
    }
}

/// A release version: `major.minor.patch`, with an optional pre-release
/// tag (`1.0.0-b2`), which sorts before the release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub numbers: [u64; 3],
    pub pre: Option<String>,
}

impl Version {
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim().trim_start_matches('v');
        let (core, pre) = match text.split_once(['-', '+']) {
            Some((core, rest)) => (core, Some(rest.to_string())),
            None => (text, None),
        };
        let mut numbers = [0u64; 3];
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return None;
        }
        for (slot, part) in numbers.iter_mut().zip(&parts) {
            *slot = part.parse().ok()?;
        }
        Some(Version { numbers, pre })
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers
            .cmp(&other.numbers)
            .then_with(|| match (&self.pre, &other.pre) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(b),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c] = self.numbers;
        write!(f, "{a}.{b}.{c}")?;
        if let Some(pre) = &self.pre {
            write!(f, "-{pre}")?;
        }
        Ok(())
    }
}

/// Whether `version` satisfies one of dbt's range strings: `>=1.0.0`,
/// `<2.0.0`, `>1`, `<=1.2`, `=1.3.0` or a bare `1.3.0` (exactly that one).
pub fn satisfies(version: &Version, range: &str) -> Result<bool, HubError> {
    let range = range.trim();
    let (op, rest) = [">=", "<=", ">", "<", "==", "="]
        .iter()
        .find_map(|op| range.strip_prefix(op).map(|rest| (*op, rest)))
        .unwrap_or(("=", range));
    let bound = Version::parse(rest).ok_or_else(|| HubError::NotARange(range.to_string()))?;
    let order = version.cmp(&bound);
    Ok(match op {
        ">=" => order != Ordering::Less,
        "<=" => order != Ordering::Greater,
        ">" => order == Ordering::Greater,
        "<" => order == Ordering::Less,
        _ => order == Ordering::Equal,
    })
}

/// The newest of `versions` that satisfies every range; pre-releases only
/// when `ranges` name one exactly.
pub fn pick<'a>(
    versions: impl IntoIterator<Item = &'a str>,
    ranges: &[String],
) -> Result<Option<Version>, HubError> {
    let mut best: Option<Version> = None;
    for text in versions {
        let Some(version) = Version::parse(text) else {
            continue;
        };
        let mut ok = true;
        for range in ranges {
            ok &= satisfies(&version, range)?;
        }
        let named = ranges
            .iter()
            .any(|r| Version::parse(r.trim_start_matches('=')) == Some(version.clone()));
        if version.pre.is_some() && !named {
            ok = false;
        }
        if ok && best.as_ref().is_none_or(|b| version > *b) {
            best = Some(version);
        }
    }
    Ok(best)
}

/// The version to install of the hub package `name` whose index is
/// `index` (the hub's `<namespace>/<name>.json`), and its tarball's address.
pub fn resolve(name: &str, index: &Json, ranges: &[String]) -> Result<(Version, String), HubError> {
    let versions = index
        .get("versions")
        .and_then(Json::as_object)
        .ok_or_else(|| HubError::NoVersions(name.to_string()))?;
    let version = pick(versions.keys().map(String::as_str), ranges)?.ok_or_else(|| {
        let mut known: Vec<&String> = versions.keys().collect();
        known.sort_by_key(|v| Version::parse(v).map(|v| v.numbers));
        HubError::NoneSatisfies {
            name: name.to_string(),
            ranges: ranges.to_vec(),
            newest: known.iter().rev().take(8).map(|v| v.to_string()).collect(),
        }
    })?;
    let entry = versions
        .iter()
        .find(|(k, _)| Version::parse(k).as_ref() == Some(&version))
        .map(|(_, v)| v)
        .expect("picked from these keys");
    let tarball = entry
        .pointer("/downloads/tarball")
        .and_then(Json::as_str)
        .ok_or_else(|| HubError::NoTarball {
            name: name.to_string(),
            version: version.clone(),
        })?;
    Ok((version, tarball.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(r: &[&str]) -> Vec<String> {
        r.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn picks_the_newest_version_in_every_range() {
        let versions = ["0.9.6", "1.0.0", "1.1.1", "1.3.0", "2.0.0", "1.4.0-b1"];
        let picked = pick(versions, &ranges(&[">=1.0.0", "<2.0.0"]))
            .unwrap()
            .unwrap();
        assert_eq!(picked.to_string(), "1.3.0");
        let exact = pick(versions, &ranges(&["1.1.1"])).unwrap().unwrap();
        assert_eq!(exact.to_string(), "1.1.1");
        assert_eq!(pick(versions, &ranges(&[">3"])).unwrap(), None);
        let pre = pick(versions, &ranges(&["1.4.0-b1"])).unwrap().unwrap();
        assert_eq!(pre.to_string(), "1.4.0-b1");
    }

    #[test]
    fn a_range_that_is_no_version_is_an_error() {
        let err = pick(["1.0.0"], &ranges(&[">=one"])).unwrap_err();
        assert_eq!(err, HubError::NotARange(">=one".into()));
        assert_eq!(err.to_string(), "'>=one' is not a version range");
    }

    #[test]
    fn an_index_without_versions_or_tarball_is_an_error_naming_the_package() {
        let err = resolve("a/b", &serde_json::json!({}), &[]).unwrap_err();
        assert_eq!(err.to_string(), "the hub's index of a/b lists no versions");
        let index = serde_json::json!({"versions": {"1.0.0": {}}});
        let err = resolve("a/b", &index, &[]).unwrap_err();
        assert!(matches!(err, HubError::NoTarball { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "the hub's index of a/b 1.0.0 has no tarball"
        );
        let err = resolve("a/b", &serde_json::json!({"versions": {}}), &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no version of a/b satisfies any range (the hub has )"
        );
    }

    #[test]
    fn resolves_the_tarball_from_the_index() {
        let index = serde_json::json!({"versions": {
            "1.0.0": {"downloads": {"tarball": "https://x/1.0.0.tar.gz"}},
            "1.1.0": {"downloads": {"tarball": "https://x/1.1.0.tar.gz"}}
        }});
        let (version, url) = resolve("a/b", &index, &ranges(&["<1.1.0"])).unwrap();
        assert_eq!(
            (version.to_string(), url.as_str()),
            ("1.0.0".into(), "https://x/1.0.0.tar.gz")
        );
        let err = resolve("a/b", &index, &ranges(&[">=2"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no version of a/b satisfies >=2 (the hub has 1.1.0, 1.0.0)"
        );
    }
}
