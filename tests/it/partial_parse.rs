//! Partial parsing: a second parse renders only the nodes whose inputs
//! changed (checksums in target/partial_parse.json), says so with `-v`, and
//! builds exactly what a full parse would.

use crate::common::Fixture;

fn project() -> Fixture {
    let f = Fixture::new();
    f.write(
        "macros/double.sql",
        "{% macro double(x) %}{{ x }} * 2{% endmacro %}\n",
    );
    f.write("models/a.sql", "select 1 as id, {{ double(3) }} as v\n");
    f.write("models/b.sql", "select * from {{ ref('a') }}\n");
    f.write("models/c.sql", "select {{ var('n', 5) }} as n\n");
    f.write(
        "models/schema.yml",
        "version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        data_tests: [unique]\n",
    );
    f
}

fn compile(f: &Fixture, args: &[&str]) -> String {
    let mut all = vec!["compile", "-v"];
    all.extend_from_slice(args);
    let out = f.kiln(&all);
    assert_eq!(out.code, 0, "{}", out.all());
    out.stdout
}

#[test]
fn an_unchanged_project_renders_nothing_and_an_edit_renders_one_node() {
    let f = project();
    let first = compile(&f, &[]);
    assert!(
        first.contains("Parsed 4 nodes, all rendered: no earlier parse"),
        "{first}"
    );
    let second = compile(&f, &[]);
    assert!(
        second.contains("Partial parse: rendered 0 of 4 nodes, 4 unchanged"),
        "{second}"
    );

    // b now reads c instead of a, and is a table: the edit is picked up.
    f.write(
        "models/b.sql",
        "{{ config(materialized='table') }}\nselect * from {{ ref('c') }}\n",
    );
    let third = compile(&f, &[]);
    assert!(
        third.contains("Partial parse: rendered 1 of 4 nodes, 3 unchanged"),
        "{third}"
    );
    let compiled = f.read("target/compiled/proj/models/b.sql");
    assert!(compiled.contains("\"c\""), "{compiled}");
    let manifest: serde_json::Value =
        serde_json::from_str(&f.read("target/manifest.json")).unwrap();
    let b = &manifest["nodes"]["model.proj.b"];
    assert_eq!(
        b["depends_on"]["nodes"],
        serde_json::json!(["model.proj.c"])
    );
    assert_eq!(b["config"]["materialized"], "table");

    // The build after partial parses builds what the files say.
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(f.query("select n from b"), vec![vec!["5".to_string()]]);
}

#[test]
fn macros_vars_and_the_flag_render_everything_again() {
    let f = project();
    compile(&f, &[]);
    f.write(
        "macros/double.sql",
        "{% macro double(x) %}{{ x }} * 3{% endmacro %}\n",
    );
    let after_macro = compile(&f, &[]);
    assert!(
        after_macro.contains("all rendered: the project changed"),
        "{after_macro}"
    );
    assert!(
        f.read("target/compiled/proj/models/a.sql")
            .contains("3 * 3")
    );

    let with_vars = compile(&f, &["--vars", "{n: 7}"]);
    assert!(
        with_vars.contains("all rendered: the project changed"),
        "{with_vars}"
    );
    assert!(
        f.read("target/compiled/proj/models/c.sql")
            .contains("select 7 as n")
    );

    let off = compile(&f, &["--vars", "{n: 7}", "--no-partial-parse"]);
    assert!(
        off.contains("all rendered: partial parsing is off"),
        "{off}"
    );
}

#[test]
fn a_properties_change_and_an_environment_variable_render_their_nodes() {
    let f = project();
    f.write(
        "models/d.sql",
        "{{ config(alias=env_var('KILN_PP_ALIAS', 'd')) }}\nselect 1 as x\n",
    );
    let out = f.kiln_env(&["compile", "-v"], &[("KILN_PP_ALIAS", "first")]);
    assert!(out.stdout.contains("all rendered"), "{}", out.all());
    let out = f.kiln_env(&["compile", "-v"], &[("KILN_PP_ALIAS", "second")]);
    assert!(
        out.stdout.contains("rendered 1 of 5 nodes, 4 unchanged"),
        "{}",
        out.all()
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&f.read("target/manifest.json")).unwrap();
    assert_eq!(manifest["nodes"]["model.proj.d"]["alias"], "second");

    // A test added in the properties file is a new node: only it is rendered.
    f.write(
        "models/schema.yml",
        "version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        data_tests: [unique, not_null]\n",
    );
    let out = f.kiln_env(&["compile", "-v"], &[("KILN_PP_ALIAS", "second")]);
    assert!(
        out.stdout.contains("rendered 1 of 6 nodes, 5 unchanged"),
        "{}",
        out.all()
    );

    // A config the properties file gives model a is one of a's inputs; its
    // two tests moved down the file, and their place is theirs.
    f.write(
        "models/schema.yml",
        "version: 2\nmodels:\n  - name: a\n    config:\n      materialized: table\n    columns:\n      - name: id\n        data_tests: [unique, not_null]\n",
    );
    let out = f.kiln_env(&["compile", "-v"], &[("KILN_PP_ALIAS", "second")]);
    assert!(
        out.stdout.contains("rendered 3 of 6 nodes, 3 unchanged"),
        "{}",
        out.all()
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&f.read("target/manifest.json")).unwrap();
    assert_eq!(
        manifest["nodes"]["model.proj.a"]["config"]["materialized"],
        "table"
    );
}

#[test]
fn a_file_that_breaks_is_reported_even_after_a_good_parse() {
    let f = project();
    compile(&f, &[]);
    f.write("models/b.sql", "select * from {{ ref('a') }\n");
    let out = f.kiln(&["compile"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.all().contains("models/b.sql"), "{}", out.all());
    f.write("models/b.sql", "select * from {{ ref('a') }}\n");
    let out = f.kiln(&["compile", "-v"]);
    assert_eq!(out.code, 0, "{}", out.all());
}
