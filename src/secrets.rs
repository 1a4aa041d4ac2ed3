//! Values that must never be printed: whatever `env_var()` read from a variable
//! whose name starts with `DBT_ENV_SECRET_` (dbt's convention) or that filled a
//! profile's `password`. Every message kiln prints or writes passes `redact`.

use std::sync::{Mutex, OnceLock};

fn registry() -> &'static Mutex<Vec<String>> {
    static SECRETS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Remembers a secret value so later output can hide it.
pub fn register(value: &str) {
    if value.is_empty() {
        return;
    }
    let mut secrets = registry().lock().unwrap_or_else(|p| p.into_inner());
    if !secrets.iter().any(|s| s == value) {
        secrets.push(value.to_string());
    }
}

/// Replaces every known secret in `text` with `*****`.
pub fn redact(text: &str) -> String {
    let secrets = registry().lock().unwrap_or_else(|p| p.into_inner());
    let mut out = text.to_string();
    for secret in secrets.iter() {
        out = out.replace(secret.as_str(), "*****");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_values_are_hidden() {
        register("hunter2-kiln-test");
        assert_eq!(
            redact("password=hunter2-kiln-test host=x"),
            "password=***** host=x"
        );
    }
}
