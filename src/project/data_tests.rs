//! Generic data tests as properties files declare them: reading a test entry
//! (`- unique`, `- accepted_values: {values: [...]}`, with `arguments:` and
//! `config:`), and the names and unique ids dbt gives them, hash included, so
//! a project's test names do not change when it moves to kiln. The nodes
//! they become are in `test_nodes.rs`; their SQL is in `templates/tests/`.

use crate::digest::md5_hex;
use std::collections::BTreeMap;

use serde_json::Value as Json;

/// Keys of a test entry that are configs, not arguments of the test macro.
pub const TEST_CONFIG_ARGS: &[&str] = &[
    "severity",
    "tags",
    "enabled",
    "where",
    "limit",
    "warn_if",
    "error_if",
    "fail_calc",
    "store_failures",
    "store_failures_as",
    "meta",
    "database",
    "schema",
    "alias",
];

/// What a test entry says, before it becomes a node.
#[derive(Debug, Clone, PartialEq)]
pub struct TestEntry {
    /// The generic test's name, e.g. `accepted_values`.
    pub test_name: String,
    /// `dbt_utils` in `dbt_utils.expression_is_true`.
    pub namespace: Option<String>,
    /// The macro's arguments, without `model` and `column_name`.
    pub args: BTreeMap<String, Json>,
    pub config: BTreeMap<String, Json>,
    /// `name:`, which replaces the generated name.
    pub name: Option<String>,
    pub description: String,
}

/// Reads one item of a `data_tests:` (or `tests:`) list.
pub fn read_entry(entry: &Json) -> Result<TestEntry, String> {
    let (full_name, args) = match entry {
        Json::String(name) => (name.clone(), serde_json::Map::new()),
        Json::Object(map) if map.contains_key("test_name") => {
            let mut args = map.clone();
            let name = match args.remove("test_name") {
                Some(Json::String(s)) => s,
                _ => return Err("`test_name:` must be the name of a test".into()),
            };
            (name, args)
        }
        Json::Object(map) if map.len() == 1 => {
            let (name, value) = map.iter().next().expect("one entry");
            let args = match value {
                Json::Object(args) => args.clone(),
                Json::Null => serde_json::Map::new(),
                other => {
                    return Err(format!(
                        "the arguments of test '{name}' must be a mapping, not {}",
                        describe(other)
                    ));
                }
            };
            (name.clone(), args)
        }
        Json::Object(map) => {
            return Err(format!(
                "a test is one key (its name) with its arguments below it, but this entry has {} keys: {}",
                map.len(),
                map.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        other => {
            return Err(format!(
                "a test is a name or a mapping of its name to its arguments, not {}",
                describe(other)
            ));
        }
    };
    let (namespace, test_name) = match full_name.split_once('.') {
        Some((ns, name)) => (Some(ns.to_string()), name.to_string()),
        None => (None, full_name.clone()),
    };
    if !is_identifier(&test_name) || namespace.as_deref().is_some_and(|n| !is_identifier(n)) {
        return Err(format!("'{full_name}' is not a test name"));
    }
    let mut args = args;
    let mut config = BTreeMap::new();
    for key in TEST_CONFIG_ARGS {
        if let Some(value) = args.remove(*key)
            && !value.is_null()
        {
            config.insert(key.to_string(), value);
        }
    }
    match args.remove("config") {
        Some(Json::Object(map)) => config.extend(map),
        Some(Json::Null) | None => {}
        Some(other) => {
            return Err(format!(
                "`config:` of test '{full_name}' must be a mapping, not {}",
                describe(&other)
            ));
        }
    }
    match args.remove("arguments") {
        Some(Json::Object(map)) => args.extend(map),
        Some(Json::Null) | None => {}
        Some(other) => {
            return Err(format!(
                "`arguments:` of test '{full_name}' must be a mapping, not {}",
                describe(&other)
            ));
        }
    }
    let name = match args.remove("name") {
        Some(Json::String(s)) => Some(s),
        Some(Json::Null) | None => None,
        Some(other) => {
            return Err(format!(
                "`name:` must be a string, not {}",
                describe(&other)
            ));
        }
    };
    let description = match args.remove("description") {
        Some(Json::String(s)) => s,
        _ => String::new(),
    };
    Ok(TestEntry {
        test_name,
        namespace,
        args: args.into_iter().collect(),
        config,
        name,
        description,
    })
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn describe(value: &Json) -> String {
    match value {
        Json::Null => "nothing".into(),
        Json::Bool(_) => "a boolean".into(),
        Json::Number(_) => "a number".into(),
        Json::String(s) => format!("the string '{s}'"),
        Json::Array(_) => "a list".into(),
        Json::Object(_) => "a mapping".into(),
    }
}

/// dbt's names for a generic test: `(short, full)`. The full name is the
/// test's name; the short one (the full name, or its first 30 characters and
/// an md5 when the full name is 64 characters or longer) names its file and
/// relation. `test_type` is the test's name (`source_` first for a source's
/// tests, `namespace_` for a package's), `target` the model's name (or
/// `source_table`), `args` every argument but `model`.
pub fn synthesize_names(
    test_type: &str,
    target: &str,
    args: &BTreeMap<String, Json>,
) -> (String, String) {
    let mut flat: Vec<String> = Vec::new();
    for (key, value) in args {
        if key == "model" {
            continue;
        }
        match value {
            Json::Object(map) => flat.extend(map.values().map(py_str)),
            Json::Array(items) => flat.extend(items.iter().map(py_str)),
            other => flat.push(py_str(other)),
        }
    }
    let clean: Vec<String> = flat.iter().map(|a| clean_arg(a)).collect();
    let identifier = format!("{test_type}_{target}");
    let full = format!("{identifier}_{}", clean.join("__"));
    if full.chars().count() >= 64 {
        let truncated: String = identifier.chars().take(30).collect();
        (format!("{truncated}_{}", md5_hex(&full)), full)
    } else {
        (full.clone(), full)
    }
}

/// Every run of characters other than letters, digits and `_` becomes one `_`.
fn clean_arg(arg: &str) -> String {
    let mut out = String::with_capacity(arg.len());
    let mut in_run = false;
    for c in arg.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
            in_run = false;
        } else if !in_run {
            out.push('_');
            in_run = true;
        }
    }
    out
}

/// The last ten hex digits of the md5 of the test's name followed by its
/// metadata (`{'kwargs': ..., 'name': ..., 'namespace': ...}` with every leaf
/// as a string, keys sorted, written as Python's `repr` writes it): the
/// suffix of a generic test's unique id.
pub fn test_hash(
    name: &str,
    test_name: &str,
    namespace: Option<&str>,
    kwargs: &BTreeMap<String, Json>,
) -> String {
    let metadata = serde_json::json!({
        "kwargs": kwargs,
        "name": test_name,
        "namespace": namespace,
    });
    let text = format!("{name}{}", py_repr(&stringify_leaves(&metadata)));
    let hex = md5_hex(&text);
    hex[hex.len() - 10..].to_string()
}

fn stringify_leaves(value: &Json) -> Json {
    match value {
        // Sorted, as dbt sorts the keys before hashing.
        Json::Object(map) => {
            let mut entries: Vec<(&String, &Json)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Json::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), stringify_leaves(v)))
                    .collect(),
            )
        }
        Json::Array(items) => Json::Array(items.iter().map(stringify_leaves).collect()),
        leaf => Json::String(py_str(leaf)),
    }
}

/// Python's `str()` of a value read from YAML.
pub fn py_str(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => py_repr(other),
    }
}

/// Python's `repr()` of a value read from YAML (dict keys in map order).
pub fn py_repr(value: &Json) -> String {
    match value {
        Json::Null => "None".into(),
        Json::Bool(true) => "True".into(),
        Json::Bool(false) => "False".into(),
        Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (None, Some(u), _) => u.to_string(),
            (_, _, Some(f)) => py_float(f),
            _ => n.to_string(),
        },
        Json::String(s) => py_string_repr(s),
        Json::Array(items) => format!(
            "[{}]",
            items.iter().map(py_repr).collect::<Vec<_>>().join(", ")
        ),
        Json::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", py_string_repr(k), py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Python's `repr()` of a float: the shortest round-trip digits, always with
/// a `.0` or an exponent, scientific from 1e16 up and below 1e-4.
fn py_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    let magnitude = f.abs();
    if magnitude != 0.0 && !(1e-4..1e16).contains(&magnitude) {
        let text = format!("{f:e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let exponent: i32 = exponent.parse().unwrap_or(0);
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exponent.abs());
    }
    let text = format!("{f}");
    if text.contains('.') {
        text
    } else {
        format!("{text}.0")
    }
}

/// Python's `repr()` of a string: single quotes unless the text holds a
/// single quote and no double one.
fn py_string_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(value: Json) -> BTreeMap<String, Json> {
        match value {
            Json::Object(map) => map.into_iter().collect(),
            _ => BTreeMap::new(),
        }
    }

    fn model_kwarg(model: &str) -> Json {
        json!(format!("{{{{ get_where_subquery(ref('{model}')) }}}}"))
    }

    // Every expected name and hash below was read from the manifest dbt-core
    // 1.10 wrote for the same declarations.
    #[test]
    fn names_match_dbt() {
        let (short, full) = synthesize_names(
            "accepted_values",
            "orders",
            &args(json!({"column_name": "amount", "values": [10, 20, 5, 7, 3], "quote": false})),
        );
        assert_eq!(
            full,
            "accepted_values_orders_amount__False__10__20__5__7__3"
        );
        assert_eq!(short, full);
        let (_, full) = synthesize_names(
            "relationships",
            "orders",
            &args(
                json!({"column_name": "customer_id", "to": "ref('customers')", "field": "customer_id"}),
            ),
        );
        assert_eq!(
            full,
            "relationships_orders_customer_id__customer_id__ref_customers_"
        );
        let (_, full) = synthesize_names(
            "row_count_between",
            "orders",
            &args(json!({"min_rows": 1, "max_rows": 100})),
        );
        assert_eq!(full, "row_count_between_orders_100__1");
        let (_, full) = synthesize_names(
            "source_not_null",
            "raw_raw_orders",
            &args(json!({"column_name": "id"})),
        );
        assert_eq!(full, "source_not_null_raw_raw_orders_id");
    }

    #[test]
    fn long_names_are_shortened_with_an_md5() {
        let (short, full) = synthesize_names(
            "accepted_values",
            "orders",
            &args(
                json!({"column_name": "status", "values": ["placed", "shipped", "returned", "completed", "return_pending", "cancelled_by_customer"]}),
            ),
        );
        assert_eq!(
            full,
            "accepted_values_orders_status__placed__shipped__returned__completed__return_pending__cancelled_by_customer"
        );
        assert_eq!(
            short,
            "accepted_values_orders_36116aa79c880e0ab23a312dda1ac40b"
        );
    }

    #[test]
    fn hashes_match_dbt() {
        let kwargs = args(json!({"column_name": "order_id", "model": model_kwarg("orders")}));
        assert_eq!(
            test_hash("not_null_orders_order_id", "not_null", None, &kwargs),
            "cf6c17daed"
        );
        assert_eq!(
            test_hash("unique_orders_order_id", "unique", None, &kwargs),
            "fed79b3a6e"
        );
        let kwargs = args(json!({
            "column_name": "amount", "values": [10, 20, 5, 7, 3], "quote": false,
            "model": model_kwarg("orders"),
        }));
        assert_eq!(
            test_hash(
                "accepted_values_orders_amount__False__10__20__5__7__3",
                "accepted_values",
                None,
                &kwargs
            ),
            "c99376f1d9"
        );
        let kwargs = args(json!({
            "column_name": "customer_id", "to": "ref('customers')", "field": "customer_id",
            "model": model_kwarg("orders"),
        }));
        assert_eq!(
            test_hash(
                "relationships_orders_customer_id__customer_id__ref_customers_",
                "relationships",
                None,
                &kwargs
            ),
            "c6ec7f58f2"
        );
        let kwargs = args(json!({
            "column_name": "id",
            "model": "{{ get_where_subquery(source('raw', 'raw_orders')) }}",
        }));
        assert_eq!(
            test_hash("source_unique_raw_raw_orders_id", "unique", None, &kwargs),
            "0de38b1856"
        );
    }

    #[test]
    fn entries_split_arguments_from_configs() {
        let entry = read_entry(&json!({"accepted_values": {
            "arguments": {"values": ["a"]}, "name": "status_is_known",
            "severity": "warn", "config": {"where": "x > 1"},
        }}))
        .unwrap();
        assert_eq!(entry.test_name, "accepted_values");
        assert_eq!(entry.args, args(json!({"values": ["a"]})));
        assert_eq!(
            entry.config,
            args(json!({"severity": "warn", "where": "x > 1"}))
        );
        assert_eq!(entry.name.as_deref(), Some("status_is_known"));
        let entry = read_entry(&json!("dbt_utils.at_least_one")).unwrap();
        assert_eq!(entry.namespace.as_deref(), Some("dbt_utils"));
        assert!(read_entry(&json!({"a": {}, "b": {}})).is_err());
        assert!(read_entry(&json!({"unique": [1]})).is_err());
    }

    #[test]
    fn nested_mappings_hash_with_sorted_keys() {
        let written = args(json!({"model": model_kwarg("m"), "opts": {"b": 1, "a": 2}}));
        let sorted = args(json!({"model": model_kwarg("m"), "opts": {"a": 2, "b": 1}}));
        assert_eq!(
            test_hash("t_m_1__2", "t", None, &written),
            test_hash("t_m_1__2", "t", None, &sorted)
        );
        // The name keeps the order the mapping was written in, as dbt's does.
        assert_eq!(synthesize_names("t", "m", &written).1, "t_m_1__2");
    }

    #[test]
    fn python_reprs() {
        assert_eq!(py_repr(&json!("it's")), "\"it's\"");
        assert_eq!(py_repr(&json!("a'b\"c")), "'a\\'b\"c'");
        assert_eq!(py_repr(&json!(1.0)), "1.0");
        assert_eq!(py_repr(&json!(0.5)), "0.5");
        assert_eq!(py_repr(&json!(1e20)), "1e+20");
        assert_eq!(py_repr(&json!([1, true, null])), "[1, True, None]");
    }
}
