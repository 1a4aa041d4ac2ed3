//! The rest of the project graph (issue 21): exposures, semantic models,
//! metrics, saved queries, analyses and `{% docs %}` blocks. The fixture
//! (`tests/fixtures/semantic_layer`) was run under dbt 1.10 (dbt-duckdb
//! 1.10); `kiln ls`, the manifest's sections and `build`'s results are
//! what dbt gave on the same files, kept in `semantic_layer_expected.json`
//! and in the lists below.

use serde_json::Value as Json;

use crate::common::Fixture;

fn project() -> Fixture {
    Fixture::project("tests/fixtures/semantic_layer", "shop")
}

/// What dbt wrote, its database (`dev`, dbt's file was dev.duckdb) named
/// as the fixture's.
fn expected(f: &Fixture) -> Json {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/semantic_layer_expected.json");
    let text = std::fs::read_to_string(path).expect("expected file");
    let text = text
        .replace("\"dev\"", &format!("\"{}\"", f.database()))
        .replace("\\\"dev\\\"", &format!("\\\"{}\\\"", f.database()));
    serde_json::from_str(&text).expect("json")
}

fn ls(f: &Fixture, args: &[&str]) -> Vec<String> {
    let out = f.kiln(&[&["ls"], args].concat());
    assert_eq!(out.code, 0, "{}", out.all());
    out.stdout.lines().map(str::to_string).collect()
}

#[test]
fn every_node_kind_is_listed_and_selected_as_dbt_lists_it() {
    let f = project();
    assert_eq!(
        ls(&f, &[]),
        [
            "exposure:shop.notebook",
            "exposure:shop.weekly_dashboard",
            "metric:shop.orders_count",
            "metric:shop.revenue",
            "metric:shop.revenue_per_order",
            "shop.customers",
            "shop.metricflow_time_spine",
            "shop.orders",
            "saved_query:shop.revenue_by_day",
            "shop.raw_orders",
            "semantic_model:shop.orders_sm",
            "source:shop.raw.events",
            "shop.unique_orders_id",
        ]
    );
    assert_eq!(
        ls(&f, &["--resource-type", "analysis"]),
        ["shop.analysis.top_customers"]
    );
    assert_eq!(
        ls(&f, &["-s", "+exposure:weekly_dashboard"]),
        [
            "exposure:shop.weekly_dashboard",
            "shop.customers",
            "shop.orders",
            "shop.raw_orders",
            "shop.unique_orders_id",
        ]
    );
    assert_eq!(
        ls(&f, &["-s", "orders+"]),
        [
            "exposure:shop.notebook",
            "exposure:shop.weekly_dashboard",
            "metric:shop.orders_count",
            "metric:shop.revenue",
            "metric:shop.revenue_per_order",
            "shop.customers",
            "shop.orders",
            "saved_query:shop.revenue_by_day",
            "semantic_model:shop.orders_sm",
            "shop.unique_orders_id",
        ]
    );
    assert_eq!(
        ls(&f, &["-s", "metric:revenue+"]),
        [
            "exposure:shop.notebook",
            "metric:shop.revenue",
            "metric:shop.revenue_per_order",
            "saved_query:shop.revenue_by_day",
        ]
    );
    assert_eq!(
        ls(&f, &["-s", "+metric:revenue_per_order"]),
        [
            "metric:shop.orders_count",
            "metric:shop.revenue",
            "metric:shop.revenue_per_order",
            "shop.orders",
            "shop.raw_orders",
            "semantic_model:shop.orders_sm",
            "shop.unique_orders_id",
        ]
    );
    assert_eq!(
        ls(&f, &["-s", "saved_query:revenue_by_day"]),
        ["saved_query:shop.revenue_by_day"]
    );
    assert_eq!(
        ls(&f, &["-s", "semantic_model:*"]),
        ["semantic_model:shop.orders_sm"]
    );
    // An exposure's fqn has its properties file's folders.
    assert_eq!(ls(&f, &["-s", "marts"]), ["exposure:shop.notebook"]);
    assert_eq!(
        ls(&f, &["--resource-type", "exposure"]),
        ["exposure:shop.notebook", "exposure:shop.weekly_dashboard"]
    );
    assert_eq!(
        ls(&f, &["-s", "tag:bi"]),
        ["exposure:shop.weekly_dashboard"]
    );
    // Sources, as dbt lists them: picked, upstream of a `+`, and named.
    assert_eq!(
        ls(&f, &["-s", "+exposure:notebook"]),
        [
            "exposure:shop.notebook",
            "metric:shop.revenue",
            "shop.orders",
            "shop.raw_orders",
            "semantic_model:shop.orders_sm",
            "source:shop.raw.events",
            "shop.unique_orders_id",
        ]
    );
    assert_eq!(ls(&f, &["-s", "source:raw"]), ["source:shop.raw.events"]);
    assert_eq!(
        ls(&f, &["-s", "source:raw+"]),
        ["exposure:shop.notebook", "source:shop.raw.events"]
    );
    assert_eq!(
        ls(&f, &["-s", "source:*", "--output", "name"]),
        ["raw.events"]
    );
}

/// `value` without the keys dbt fills with run-dependent values.
fn comparable(mut value: Json) -> Json {
    if let Json::Object(map) = &mut value {
        map.remove("created_at");
    }
    value
}

#[test]
fn the_manifest_has_each_section_as_dbt_writes_it() {
    let f = project();
    let out = f.kiln(&["parse"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let manifest: Json = serde_json::from_str(&f.read("target/manifest.json")).expect("manifest");
    let expected = expected(&f);
    for section in ["exposures", "metrics", "semantic_models", "saved_queries"] {
        let want = expected[section].as_object().expect(section);
        let got = manifest[section].as_object().expect(section);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{section}"
        );
        for (id, want) in want {
            let got = comparable(got[id].clone());
            let want = comparable(want.clone());
            for (key, value) in want.as_object().expect("entry") {
                // dbt lists an exposure's and a metric's parents as it found
                // them; compared as sets.
                if key == "depends_on" {
                    let set = |v: &Json| {
                        let mut ids: Vec<String> = v["nodes"]
                            .as_array()
                            .expect("nodes")
                            .iter()
                            .map(|n| n.as_str().unwrap_or_default().to_string())
                            .collect();
                        ids.sort();
                        ids
                    };
                    assert_eq!(set(&got[key]), set(value), "{id}.{key}");
                    continue;
                }
                assert_eq!(&got[key], value, "{id}.{key}");
            }
        }
    }
    assert_eq!(
        manifest["docs"]["doc.shop.orders_doc"],
        expected["docs"]["doc.shop.orders_doc"]
    );
    assert_eq!(
        manifest["docs"]["doc.shop.__overview__"]["block_contents"],
        "The shop project."
    );
    // A description's `doc()` is rendered into it.
    assert_eq!(
        manifest["nodes"]["model.shop.orders"]["description"],
        expected["orders_description"]
    );
    let analysis = &manifest["nodes"]["analysis.shop.top_customers"];
    for (key, value) in expected["analysis"].as_object().expect("analysis") {
        assert_eq!(&analysis[key], value, "analysis {key}");
    }
    for map in ["parent_map", "child_map"] {
        for (id, want) in expected[map].as_object().expect(map) {
            let mut got: Vec<String> = manifest[map][id]
                .as_array()
                .unwrap_or_else(|| panic!("{map} has no {id}"))
                .iter()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect();
            got.sort();
            let want: Vec<String> = want
                .as_array()
                .expect("ids")
                .iter()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect();
            assert_eq!(got, want, "{map}[{id}]");
        }
    }
}

#[test]
fn build_runs_exposures_and_saved_queries_as_no_ops_and_compile_writes_analyses() {
    let f = project();
    let out = f.kiln(&["build"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let statuses = f.statuses();
    // dbt 1.10's build: the same nodes, the no-ops as `no-op`; metrics,
    // semantic models and analyses are not in it.
    let want: std::collections::BTreeMap<String, String> = [
        ("exposure.shop.notebook", "no-op"),
        ("exposure.shop.weekly_dashboard", "no-op"),
        ("model.shop.customers", "success"),
        ("model.shop.metricflow_time_spine", "success"),
        ("model.shop.orders", "success"),
        ("saved_query.shop.revenue_by_day", "no-op"),
        ("seed.shop.raw_orders", "success"),
        ("test.shop.unique_orders_id.1360ecc70e", "pass"),
    ]
    .into_iter()
    .map(|(id, status)| (id.to_string(), status.to_string()))
    .collect();
    assert_eq!(statuses, want);
    let words = out.words();
    assert!(
        words.contains("NO-OP saved query revenue_by_day"),
        "{}",
        out.all()
    );
    assert!(
        words.contains("NO-OP exposure weekly_dashboard"),
        "{}",
        out.all()
    );
    assert!(words.contains("NO-OP=3 TOTAL=8"), "{}", out.all());
    assert_eq!(f.query("select count(*) from main.customers"), [["2"]]);

    let out = f.kiln(&["compile"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let compiled = f.read("target/compiled/shop/analyses/top_customers.sql");
    assert!(
        compiled.contains("\"main\".\"customers\"") && compiled.contains("limit 10"),
        "{compiled}"
    );
    assert!(out.stdout.contains("1 analysis"), "{}", out.all());
}

#[test]
fn what_a_metric_or_exposure_reads_must_exist_as_dbt_says() {
    let cases = [
        (
            "measure: order_count",
            "measure: order_cnt",
            "Parsing Error in metric orders_count (models/schema.yml): A semantic model having a measure `order_cnt` does not exist but was referenced.",
        ),
        (
            "denominator: orders_count",
            "denominator: orders_cnt",
            "Parsing Error in metric revenue_per_order (models/schema.yml): The metric `orders_cnt` does not exist but was referenced.",
        ),
        (
            "metrics: [revenue]",
            "metrics: [revenu]",
            "Saved_Query 'saved_query.shop.revenue_by_day' (models/schema.yml) depends on a metric named 'revenu' which was not found",
        ),
        (
            "      - ref('orders')\n",
            "      - ref('ordrs')\n",
            "Exposure 'exposure.shop.weekly_dashboard' (models/schema.yml) depends on a node named 'ordrs' which was not found",
        ),
        (
            "doc(\"orders_doc\")",
            "doc(\"orders_dc\")",
            "Documentation for 'model.shop.orders' depends on doc 'orders_dc' which was not found",
        ),
    ];
    for (from, to, message) in cases {
        let f = project();
        let schema = f.read("models/schema.yml");
        assert!(schema.contains(from), "{from}");
        f.write("models/schema.yml", &schema.replacen(from, to, 1));
        let out = f.kiln(&["parse"]);
        assert_ne!(out.code, 0, "{to}: {}", out.all());
        assert!(out.words().contains(message), "{to}: {}", out.all());
        assert!(out.all().contains("schema.yml"), "{}", out.all());
    }
}

#[test]
fn keys_kiln_does_not_know_in_the_new_sections_are_warnings_at_their_line() {
    let f = project();
    // The fixture as dbt wrote it warns of nothing.
    let clean = f.kiln(&["parse"]);
    assert_eq!(clean.code, 0, "{}", clean.all());
    assert!(!clean.all().contains("unknown key"), "{}", clean.all());

    let schema = f.read("models/schema.yml");
    let schema = schema
        .replacen("    depends_on:\n", "    depend_on:\n", 1)
        .replacen(
            "  - name: top_customers\n",
            "  - name: top_customers\n    data_tests: [unique]\n  - name: top_customers_old\n",
            1,
        );
    f.write("models/schema.yml", &schema);
    let out = f.kiln(&["parse"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let words = out.words();
    for needle in [
        "unknown key 'depend_on' in exposure 'weekly_dashboard'; it is ignored",
        "unknown key 'data_tests' in analysis 'top_customers'; it is ignored",
        "describes analysis 'top_customers_old', but there is no such analysis",
    ] {
        assert!(words.contains(needle), "{needle}: {}", out.all());
    }
    let line = schema
        .lines()
        .position(|l| l.contains("depend_on"))
        .map(|i| i + 1)
        .expect("line");
    assert!(
        out.all().contains(&format!("models/schema.yml:{line}")),
        "{}",
        out.all()
    );
}
