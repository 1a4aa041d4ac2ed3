//! Values that must never be printed: whatever `env_var()` read from a variable
//! whose name starts with `DBT_ENV_SECRET_` (dbt's convention) or that filled a
//! profile's `password`. Every message kiln prints passes `redact`, and every
//! file it writes `redacted_for_file`.

use std::borrow::Cow;
use std::sync::{Mutex, OnceLock};

/// A secret, and whether it came from a `DBT_ENV_SECRET_` variable.
struct Secret {
    value: String,
    from_env: bool,
}

fn registry() -> &'static Mutex<Vec<Secret>> {
    static SECRETS: OnceLock<Mutex<Vec<Secret>>> = OnceLock::new();
    SECRETS.get_or_init(|| Mutex::new(Vec::new()))
}

fn remember(value: &str, from_env: bool) {
    if value.is_empty() {
        return;
    }
    let mut secrets = registry().lock().unwrap_or_else(|p| p.into_inner());
    match secrets.iter_mut().find(|s| s.value == value) {
        Some(known) => known.from_env |= from_env,
        None => secrets.push(Secret {
            value: value.to_string(),
            from_env,
        }),
    }
}

/// Remembers a secret value (a profile's password) so that later messages
/// can hide it.
pub fn register(value: &str) {
    remember(value, false);
}

/// Remembers the value of a `DBT_ENV_SECRET_` variable: hidden in messages
/// and in every file kiln writes.
pub fn register_env(value: &str) {
    remember(value, true);
}

/// Replaces every known secret in `text` with `*****`.
pub fn redact(text: &str) -> String {
    replace(text, |_| true).into_owned()
}

/// The text of a file kiln writes, with the values of `DBT_ENV_SECRET_`
/// variables masked; borrowed when it holds none. (A profile's literal
/// password is not searched for here: short ones such as `postgres` would
/// mask words of the artifacts, and nothing puts it into a file.)
pub fn redacted_for_file(text: &str) -> Cow<'_, str> {
    replace(text, |s| s.from_env)
}

fn replace<'a>(text: &'a str, wanted: impl Fn(&Secret) -> bool) -> Cow<'a, str> {
    let secrets = registry().lock().unwrap_or_else(|p| p.into_inner());
    let mut out = Cow::Borrowed(text);
    for secret in secrets.iter().filter(|s| wanted(s)) {
        if out.contains(secret.value.as_str()) {
            out = Cow::Owned(out.replace(secret.value.as_str(), "*****"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_secrets_are_hidden_in_files_too() {
        register("short-pw-kiln-test");
        register_env("env-secret-kiln-test");
        assert_eq!(
            redacted_for_file("a short-pw-kiln-test env-secret-kiln-test"),
            "a short-pw-kiln-test *****"
        );
        assert_eq!(redact("short-pw-kiln-test"), "*****");
    }

    #[test]
    fn registered_values_are_hidden() {
        register("hunter2-kiln-test");
        assert_eq!(
            redact("password=hunter2-kiln-test host=x"),
            "password=***** host=x"
        );
    }
}
