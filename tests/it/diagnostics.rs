//! Broken projects, one folder a case under `tests/broken/`: each is run with
//! the real binary and its whole output (exit code, stdout, stderr) is
//! checked against a snapshot, so a change to any diagnostic is reviewed.
//! A folder holds only what is broken; the harness adds a dbt_project.yml and
//! a DuckDB profiles.yml when the case has none.

use crate::common::{Fixture, Output};

fn run_case(case: &str, args: &[&str]) -> (Fixture, Output) {
    let fixture = Fixture::copy_of(&format!("tests/broken/{case}"));
    if !fixture.path().join("dbt_project.yml").exists() {
        fixture.write(
            "dbt_project.yml",
            "name: proj\nprofile: proj\nconfig-version: 2\n",
        );
    }
    fixture.write(
        "profiles.yml",
        "proj:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: test.duckdb\n      threads: 1\n",
    );
    let out = fixture.kiln_env(args, &[("NO_COLOR", "1"), ("GITHUB_ACTIONS", "")]);
    (fixture, out)
}

/// The output as a snapshot shows it: timings and the temporary directory
/// replaced by placeholders.
fn transcript(out: &Output, fixture: &Fixture) -> String {
    let dir = fixture.path().display().to_string();
    let text = format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.code, out.stdout, out.stderr
    );
    let text = text.replace(&dir, "[dir]");
    let timing = regex::Regex::new(r"\d+\.\d\ds").unwrap();
    timing.replace_all(&text, "[t]s").into_owned()
}

fn check(case: &str, args: &[&str], exit: i32) -> Output {
    let (fixture, out) = run_case(case, args);
    assert_eq!(out.code, exit, "{case}:\n{}", out.all());
    assert!(!out.all().contains("panicked"), "{}", out.all());
    insta::assert_snapshot!(case, transcript(&out, &fixture));
    out
}

#[test]
fn cycle() {
    let out = check("cycle", &["compile"], 2);
    assert!(out.stderr.contains("K3002"));
    for file in ["models/a.sql:1", "models/b.sql:2", "models/c.sql:2"] {
        assert!(out.stderr.contains(file), "{file}: {}", out.stderr);
    }
}

#[test]
fn unknown_ref() {
    let out = check("unknown_ref", &["compile"], 2);
    assert!(out.stderr.contains("K3001"));
    assert!(out.stderr.contains("models/orders.sql:2:"));
    assert!(out.stderr.contains("did you mean 'customers'?"));
}

#[test]
fn jinja_syntax() {
    let out = check("jinja_syntax", &["compile"], 2);
    assert!(out.stderr.contains("K2001"));
    assert!(out.stderr.contains("models/a.sql:"));
}

#[test]
fn undefined_macro() {
    let out = check("undefined_macro", &["compile"], 2);
    assert!(out.stderr.contains("K2002"));
    assert!(out.stderr.contains("models/payments.sql:3"));
}

#[test]
fn error_in_macro() {
    let out = check("error_in_macro", &["compile"], 2);
    assert!(out.stderr.contains("K2004"));
    assert!(out.stderr.contains("macros/money.sql:3"));
    assert!(out.stderr.contains("model.proj.payments"));
}

#[test]
fn yaml_syntax() {
    let out = check("yaml_syntax", &["compile"], 2);
    assert!(out.stderr.contains("K1001"));
    assert!(out.stderr.contains("models/schema.yml:"));
}

#[test]
fn yaml_wrong_type() {
    let out = check("yaml_wrong_type", &["compile"], 2);
    assert!(out.stderr.contains("K1002"));
    assert!(out.stderr.contains("models[0].columns[1].name"));
    assert!(out.stderr.contains("models/schema.yml:8"));
}

#[test]
fn bad_csv() {
    let out = check("bad_csv", &["seed"], 1);
    assert!(out.stderr.contains("K5001"));
    assert!(out.stderr.contains("seeds/countries.csv:3"));
}

#[test]
fn sql_error() {
    let (fixture, out) = run_case("sql_error", &["run"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("K4001"));
    assert!(out.stderr.contains("target/run/proj/models/bad.sql"));
    assert!(out.stderr.contains("no_such_function"));
    // The model before it was built; the one after it skipped.
    assert_eq!(fixture.query("select id from good"), vec![vec!["1"]]);
    assert!(out.stdout.contains("SKIP"));
    insta::assert_snapshot!("sql_error", transcript(&out, &fixture));
}

#[test]
fn missing_profile() {
    let out = check("missing_profile", &["compile"], 2);
    assert!(out.stderr.contains("K1005"));
    assert!(out.stderr.contains("profile 'warehouse'"));
}

#[test]
fn unknown_target() {
    let out = check("unknown_target", &["compile", "--target", "prdo"], 2);
    assert!(out.stderr.contains("K1005"));
    assert!(out.stderr.contains("target 'prdo'"));
}

#[test]
fn bad_vars() {
    let out = check("bad_vars", &["compile", "--vars", "{n: [1, 2"], 2);
    assert!(out.stderr.contains("K1006"));
}

#[test]
fn bad_selector() {
    let out = check("bad_selector", &["run", "-s", "tagg:nightly"], 2);
    assert!(out.stderr.contains("K3003"));
    assert!(out.stderr.contains("did you mean 'tag'?"));
}

#[test]
fn undefined_var() {
    let out = check("undefined_var", &["compile"], 2);
    assert!(out.stderr.contains("start_date"));
    assert!(out.stderr.contains("models/a.sql:2"));
}

#[test]
fn unknown_config_key_is_a_warning() {
    let out = check("unknown_config_key", &["run"], 0);
    assert!(out.stderr.contains("K1003"));
    assert!(out.stderr.contains("did you mean 'materialized'?"));
    assert!(out.stderr.contains("did you mean 'description'?"));
}

#[test]
fn json_log_format_gives_one_object_a_line() {
    let (_, out) = run_case("unknown_ref", &["compile", "--log-format", "json"]);
    assert_eq!(out.code, 2);
    let events: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    let error = events
        .iter()
        .find(|e| e["code"] == "K3001")
        .expect("the error event");
    assert_eq!(error["level"], "error");
    assert_eq!(error["file"], "models/orders.sql");
    assert_eq!(error["line"], 2);
    assert_eq!(error["help"], "did you mean 'customers'?");
}

#[test]
fn github_actions_get_annotations() {
    let fixture = run_case("unknown_ref", &["compile"]).0;
    let out = fixture.kiln_env(&["compile"], &[("GITHUB_ACTIONS", "true")]);
    assert_eq!(out.code, 2);
    let annotation = out
        .stdout
        .lines()
        .find(|l| l.starts_with("::error "))
        .unwrap_or_else(|| panic!("no annotation in {}", out.stdout));
    assert!(
        annotation.starts_with("::error file=models/orders.sql,line=2,col="),
        "{annotation}"
    );
    assert!(annotation.contains("title=kiln K3001::"), "{annotation}");
}
