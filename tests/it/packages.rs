//! Packages: a local package whose macros dispatch per adapter, whose model
//! the root project refs and configures, and whose generic test the root
//! project uses (tests/fixtures/packages); `kiln deps` installing local, git
//! and hub packages and pinning them; and what a missing package says.

use std::path::Path;
use std::process::Command;

use crate::common::{Db, Fixture, lines};

fn package_project(db: Db) -> Fixture {
    let f = Fixture::project_on(db, "tests/fixtures/packages", "kiln_test");
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    f
}

fn a_local_package_dispatches_per_adapter_and_the_root_overrides_it(db: Db) {
    let f = package_project(db);
    // `adapter_tag` has a postgres__ variant only; `label` is overridden by
    // the root project's default__label, which dbt searches before the
    // package's own postgres__label.
    let tag = match db {
        Db::DuckDb => "default",
        Db::Postgres => "postgres",
    };
    assert_eq!(
        lines(&f.query(
            "select order_id, cast(amount as varchar), tag, label, ab, greeting, cast(next_day as varchar) \
             from {schema}.orders_dollars order by order_id"
        )),
        vec![
            format!("1|12.500000|{tag}|root|ab|hello|2024-02-01"),
            format!("2|3.990000|{tag}|root|ab|hello|2024-02-01"),
        ]
    );
}

fn the_packages_model_takes_the_root_projects_config(db: Db) {
    let f = package_project(db);
    // util_pkg says view, in its dbt_project.yml and in the model's own
    // config(); the root project's `models: util_pkg:` says table and wins
    // over both (dbt's calculate_node_config).
    assert_eq!(
        lines(&f.query(
            "select table_type from information_schema.tables \
             where table_schema = '{schema}' and table_name = 'util_calendar'"
        )),
        vec!["BASE TABLE"]
    );
    // As in dbt, `project_name` is the root project's, in a package's model too.
    assert_eq!(
        lines(&f.query("select project_name_seen from {schema}.util_calendar")),
        vec!["shop_pkgs"]
    );
}

fn the_packages_generic_test_runs_under_dbts_name(db: Db) {
    let f = Fixture::project_on(db, "tests/fixtures/packages", "kiln_test");
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains("PASS  test util_pkg_is_positive_orders_dollars_amount"),
        "{}",
        out.stdout
    );
    // The package's own test of its own model runs too.
    assert!(
        out.stdout
            .contains("PASS  test not_null_util_calendar_greeting"),
        "{}",
        out.stdout
    );
    // A negative amount makes the package's test fail.
    f.write(
        "models/orders.sql",
        "select 1 as order_id, -5 as amount_cents",
    );
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("FAIL 1 test util_pkg_is_positive_orders_dollars_amount"),
        "{}",
        out.stdout
    );
}

crate::on_each_adapter!(
    a_local_package_dispatches_per_adapter_and_the_root_overrides_it,
    the_packages_model_takes_the_root_projects_config,
    the_packages_generic_test_runs_under_dbts_name,
);

#[test]
fn ls_lists_the_packages_nodes_under_the_package_name() {
    let f = Fixture::project("tests/fixtures/packages", "kiln_test");
    let out = f.kiln(&["ls", "--resource-type", "model", "--output", "json"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains("\"unique_id\":\"model.util_pkg.util_calendar\"")
            || out
                .stdout
                .contains("\"unique_id\": \"model.util_pkg.util_calendar\""),
        "{}",
        out.stdout
    );
    let out = f.kiln(&["ls", "-s", "package:util_pkg"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("util_pkg.util_calendar"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("shop_pkgs.orders\n"), "{}", out.stdout);
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args([
            "-c",
            "user.email=ci@kiln",
            "-c",
            "user.name=kiln",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

/// A dbt project named `name` with one model `<name>_model`, written to `dir`.
fn write_package(dir: &Path, name: &str, greeting: &str) {
    std::fs::create_dir_all(dir.join("models")).unwrap();
    std::fs::create_dir_all(dir.join("macros")).unwrap();
    std::fs::write(
        dir.join("dbt_project.yml"),
        format!("name: {name}\nversion: '1.0.0'\nconfig-version: 2\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join(format!("models/{name}_model.sql")),
        format!("select '{{{{ {name}.greeting() }}}}' as greeting"),
    )
    .unwrap();
    std::fs::write(
        dir.join("macros/greeting.sql"),
        format!("{{% macro greeting() %}}{greeting}{{% endmacro %}}"),
    )
    .unwrap();
}

#[test]
fn deps_installs_local_git_and_hub_packages_and_pins_them() {
    let f = Fixture::new();
    let outside = tempfile::tempdir().unwrap();

    // A git repository whose dbt project sits in a subdirectory, tagged v1,
    // then changed on main after the tag.
    let repo = outside.path().join("repo");
    write_package(&repo.join("project"), "git_pkg", "from v1");
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "v1"]);
    git(&repo, &["tag", "v1"]);
    write_package(&repo.join("project"), "git_pkg", "from main");
    git(&repo, &["commit", "-qam", "after v1"]);

    // A package hub laid out as the hub's API is, with three releases.
    let hub = outside.path().join("hub");
    std::fs::create_dir_all(hub.join("acme")).unwrap();
    for version in ["1.0.0", "1.4.2", "2.0.0"] {
        let source = outside.path().join(format!("hub_pkg-{version}"));
        write_package(&source, "hub_pkg", &format!("hub {version}"));
        let status = Command::new("tar")
            .arg("-czf")
            .arg(hub.join(format!("hub_pkg-{version}.tar.gz")))
            .arg("-C")
            .arg(outside.path())
            .arg(format!("hub_pkg-{version}"))
            .status()
            .unwrap();
        assert!(status.success());
    }
    let tarball = |v: &str| format!("file://{}/hub_pkg-{v}.tar.gz", hub.display());
    std::fs::write(
        hub.join("acme/hub_pkg.json"),
        format!(
            r#"{{"name": "hub_pkg", "versions": {{
                "1.0.0": {{"downloads": {{"tarball": "{}"}}}},
                "1.4.2": {{"downloads": {{"tarball": "{}"}}}},
                "2.0.0": {{"downloads": {{"tarball": "{}"}}}}}}}}"#,
            tarball("1.0.0"),
            tarball("1.4.2"),
            tarball("2.0.0")
        ),
    )
    .unwrap();

    write_package(&f.path().join("vendor/local_pkg"), "local_pkg", "local");
    f.write(
        "packages.yml",
        &format!(
            "packages:\n  - local: vendor/local_pkg\n  - git: \"file://{}\"\n    revision: v1\n    subdirectory: project\n  - package: acme/hub_pkg\n    version: [\">=1.0.0\", \"<2.0.0\"]\n",
            repo.display()
        ),
    );
    let hub_url = format!("file://{}", hub.display());
    let out = f.kiln_env(&["deps"], &[("KILN_PACKAGE_HUB", hub_url.as_str())]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("Installed hub_pkg (1.4.2)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("Installed local_pkg (vendor/local_pkg)"),
        "{}",
        out.stdout
    );

    let lock = f.read("package-lock.yml");
    assert!(
        lock.contains("name: hub_pkg\n  package: acme/hub_pkg\n  version: 1.4.2"),
        "{lock}"
    );
    assert!(lock.contains("name: git_pkg\n  git: file://"), "{lock}");
    assert!(lock.contains("subdirectory: project"), "{lock}");
    // The git package is pinned to the commit v1 names.
    let v1 = Command::new("git")
        .args(["rev-parse", "v1"])
        .current_dir(&repo)
        .output()
        .unwrap();
    let v1 = String::from_utf8_lossy(&v1.stdout).trim().to_string();
    assert!(lock.contains(&format!("revision: {v1}")), "{lock}");
    assert!(f.path().join("dbt_packages/local_pkg").is_symlink());

    // The installed packages build, each with its own macros.
    f.write(
        "models/greetings.sql",
        "select greeting from {{ ref('git_pkg_model') }} union all select greeting from {{ ref('hub_pkg_model') }} union all select greeting from {{ ref('local_pkg_model') }}",
    );
    let out = f.kiln(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        lines(&f.query("select greeting from greetings order by 1")),
        vec!["from v1", "hub 1.4.2", "local"]
    );

    // With the lock in place, a newer release in range is not taken.
    std::fs::write(
        hub.join("acme/hub_pkg.json"),
        format!(
            r#"{{"versions": {{"1.4.2": {{"downloads": {{"tarball": "{}"}}}}, "1.9.0": {{"downloads": {{"tarball": "{}"}}}}}}}}"#,
            tarball("1.4.2"),
            tarball("2.0.0")
        ),
    )
    .unwrap();
    let out = f.kiln_env(&["deps"], &[("KILN_PACKAGE_HUB", hub_url.as_str())]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("Installed hub_pkg (1.4.2)"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_package_that_is_not_installed_asks_for_kiln_deps() {
    let f = Fixture::new();
    f.write(
        "packages.yml",
        "packages:\n  - package: dbt-labs/dbt_utils\n    version: [\">=1.0.0\", \"<2.0.0\"]\n",
    );
    f.write("models/a.sql", "select 1 as x");
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("packages.yml:2"), "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "hub package dbt-labs/dbt_utils >=1.0.0, <2.0.0 is not installed in dbt_packages/"
        ),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("run `kiln deps`"), "{}", out.stderr);
}

#[test]
fn a_hub_that_cannot_be_reached_is_named_with_what_to_do() {
    let f = Fixture::new();
    f.write(
        "packages.yml",
        "packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.3.0\n",
    );
    let out = f.kiln_env(
        &["deps"],
        &[("KILN_PACKAGE_HUB", "file:///nonexistent/hub")],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("packages.yml:2"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("cannot read the package hub's index of dbt-labs/dbt_utils"),
        "{}",
        out.stderr
    );
    assert!(!f.path().join("package-lock.yml").exists());
}

#[test]
fn a_ref_to_a_package_that_is_not_installed_says_so() {
    let f = Fixture::new();
    f.write(
        "models/a.sql",
        "select * from {{ ref('other_pkg', 'thing') }}",
    );
    let out = f.kiln(&["compile"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("names package 'other_pkg', which is not installed"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("models/a.sql:1"), "{}", out.stderr);
}

#[test]
fn graph_lists_the_projects_and_the_packages_nodes_when_executing() {
    let f = Fixture::project("tests/fixtures/packages", "kiln_test");
    f.write(
        "models/model_names.sql",
        "{% set names = [] %}\n{% if execute %}{% for node in graph.nodes.values() if node.resource_type == 'model' %}{% do names.append(node.package_name ~ '.' ~ node.name) %}{% endfor %}{% endif %}\nselect '{{ names | sort | join(\",\") }}' as models",
    );
    let out = f.kiln(&["run", "-s", "model_names"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        lines(&f.query("select models from model_names")),
        vec![
            "shop_pkgs.model_names,shop_pkgs.orders,shop_pkgs.orders_dollars,util_pkg.util_calendar"
        ]
    );
}

#[test]
fn packages_outside_the_project_by_absolute_path_are_refused_clearly() {
    let f = Fixture::new();
    f.write(
        "dbt_project.yml",
        "name: proj\nprofile: proj\nconfig-version: 2\npackages-install-path: /tmp/elsewhere\n",
    );
    let out = f.kiln(&["ls"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("packages-install-path '/tmp/elsewhere' is absolute"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("dbt_project.yml"), "{}", out.stderr);
}

#[test]
fn a_packages_run_hooks_run_before_the_root_projects() {
    let f = Fixture::project("tests/fixtures/packages", "kiln_test");
    // The package creates the table; the root project's hook, run after it
    // (as dbt orders them), writes to it.
    let package = f.read("local_pkgs/util_pkg/dbt_project.yml");
    f.write(
        "local_pkgs/util_pkg/dbt_project.yml",
        &format!("{package}\non-run-start:\n  - \"create table if not exists {{{{ target.schema }}}}.hook_log (who varchar)\"\n"),
    );
    let root = f.read("dbt_project.yml");
    f.write(
        "dbt_project.yml",
        &format!("{root}\non-run-start:\n  - \"insert into {{{{ target.schema }}}}.hook_log values ('root')\"\n"),
    );
    let out = f.kiln(&["run", "-s", "orders"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(lines(&f.query("select who from hook_log")), vec!["root"]);
}
