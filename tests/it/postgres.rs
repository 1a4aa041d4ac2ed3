//! What only the PostgreSQL adapter has: its connection settings and their
//! failures, the server's error positions, and the example project built on
//! it with the rows DuckDB gives (and dbt-postgres 1.9 gave, checked by hand).

use crate::common::{Db, Fixture, lines};

#[test]
fn example_project_builds_on_postgres_with_the_same_rows() {
    let f = Fixture::project_on(Db::Postgres, "example_project", "shop");
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains("Done. PASS=38 WARN=1 ERROR=0 SKIP=0 TOTAL=39"),
        "{}",
        out.stdout
    );
    assert_eq!(
        lines(&f.query(
            "select customer_lifetime_value::text, number_of_orders, first_order::text, most_recent_order::text from {schema}.customers where customer_id = 1"
        )),
        ["188.22|5|2024-01-03|2024-04-05"]
    );
    assert_eq!(
        lines(&f.query(
            "select count(*), sum(customer_lifetime_value)::text, sum(number_of_orders) from {schema}.customers"
        )),
        ["20|1429.81|40"]
    );
    assert_eq!(
        lines(&f.query(
            "select table_schema, table_name, table_type from information_schema.tables where table_schema like '{schema}%' and table_name in ('orders', 'stg_orders', 'revenue_by_month') order by 2"
        )),
        [
            f.sql("{schema}|orders|BASE TABLE"),
            f.sql("{schema}_finance|revenue_by_month|BASE TABLE"),
            f.sql("{schema}|stg_orders|VIEW"),
        ]
    );
}

#[test]
fn a_server_that_does_not_answer_is_named_with_host_and_port() {
    let f = Fixture::new_on(Db::Postgres);
    f.write(
        "profiles.yml",
        "proj:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n      host: 127.0.0.1\n      port: 1\n      user: postgres\n      password: \"{{ env_var('KILN_PG_PASSWORD') }}\"\n      dbname: test\n      schema: s\n      connect_timeout: 3\n",
    );
    f.write("models/m.sql", "select 1 as x\n");
    let out = f.kiln_env(&["run"], &[("KILN_PG_PASSWORD", "hunter2-secret")]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("cannot connect to PostgreSQL at 127.0.0.1:1"),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains("hunter2-secret"), "{}", out.all());
    assert!(!out.all().contains("panicked"), "{}", out.all());
}

#[test]
fn secrets_never_reach_logs_or_artifacts() {
    let f = Fixture::new_on(Db::Postgres);
    let profile = f.read("profiles.yml");
    // Trust authentication ignores the password, so the run succeeds.
    f.write(
        "profiles.yml",
        &profile.replace(
            "password: ''",
            "password: \"{{ env_var('KILN_PG_PASSWORD') }}\"",
        ),
    );
    f.write(
        "models/m.sql",
        "select '{{ target.user }}' as u, '{{ target.password }}' as p\n",
    );
    let out = f.kiln_env(
        &["--log-format", "json", "run"],
        &[("KILN_PG_PASSWORD", "hunter2-secret")],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!out.all().contains("hunter2-secret"), "{}", out.all());
    for entry in walk(&f.path().join("target")) {
        let text = std::fs::read_to_string(&entry).unwrap_or_default();
        assert!(!text.contains("hunter2-secret"), "{}", entry.display());
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn a_database_error_points_at_the_line_the_server_names() {
    let f = Fixture::new_on(Db::Postgres);
    f.write(
        "models/bad.sql",
        "{{ config(materialized='table') }}\nselect\n    1 as id,\n    no_such_column as oops\n",
    );
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains(
            "database error in model bad: ERROR: column \"no_such_column\" does not exist"
        ),
        "{}",
        out.stderr
    );
    // The statement sent, in target/run/, and the line of the column in it.
    let run = f.read("target/run/proj/models/bad.sql");
    let line = run
        .lines()
        .position(|l| l.contains("no_such_column"))
        .unwrap()
        + 1;
    assert!(
        out.stderr
            .contains(&format!("target/run/proj/models/bad.sql:{line}:5")),
        "line {line}\n{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("model bad is defined in models/bad.sql"),
        "{}",
        out.stderr
    );
}

#[test]
fn tls_modes_are_refused_clearly() {
    let f = Fixture::new_on(Db::Postgres);
    let profile = f.read("profiles.yml");
    f.write(
        "profiles.yml",
        &profile.replace("threads: 2", "threads: 2\n      sslmode: verify-full"),
    );
    f.write("models/m.sql", "select 1 as x\n");
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("sslmode 'verify-full' needs TLS"),
        "{}",
        out.stderr
    );
}

#[test]
fn role_and_search_path_are_applied_to_each_connection() {
    let f = Fixture::new_on(Db::Postgres);
    let profile = f.read("profiles.yml");
    f.write(
        "profiles.yml",
        &profile.replace(
            "threads: 2",
            "threads: 2\n      role: postgres\n      search_path: pg_catalog",
        ),
    );
    f.write(
        "models/m.sql",
        "{{ config(materialized='table') }}\nselect current_user::text as u, current_setting('search_path') as p\n",
    );
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        lines(&f.query("select u, p from {schema}.m")),
        ["postgres|pg_catalog"]
    );
}
