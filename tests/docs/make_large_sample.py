#!/usr/bin/env python3
"""Write a synthetic docs data file with N nodes (default 2000) for checking
that the docs page stays usable on a large project:

    python3 tests/docs/make_large_sample.py 2000 /tmp/kiln_docs_large.json
    tests/docs/render_sample.sh /tmp/kiln_docs_large.json /tmp/kiln_docs_large.html
    tests/docs/browser_test.sh /tmp/kiln_docs_large.html /tmp/kiln_docs_large.png
"""
import json
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
out = sys.argv[2] if len(sys.argv) > 2 else "/tmp/kiln_docs_large.json"
rng = random.Random(7)

# Roughly a dbt project's shape: sources and seeds, a wide staging layer, then
# intermediate and mart models that read from a few earlier models each.
n_roots = max(1, n // 10)
n_staging = max(1, n // 4)
nodes, edges = [], []


def node(uid, name, kind, mat, path, parents):
    cols = [{"name": f"col_{i}", "type": rng.choice(["INTEGER", "VARCHAR", "DATE", None]), "description": ""}
            for i in range(3)]
    lineage = {}
    if parents:
        for c in cols:
            p = rng.choice(parents)
            lineage[c["name"]] = [{"node": p, "column": c["name"], "kind": rng.choice(["passthrough", "transformed"])}]
    sql = None
    raw = None
    if kind in ("model", "snapshot"):
        froms = "\n".join(f"join {p.split('.')[-1]} using (col_0)" for p in parents[1:])
        sql = f"select col_0, col_1, col_2\nfrom main.{parents[0].split('.')[-1]}\n{froms}"
        raw = sql.replace("main.", "")
    nodes.append({"id": uid, "name": name, "kind": kind, "materialization": mat, "path": path, "package": "big",
                  "description": f"Synthetic {kind} {name}.", "sql": sql, "raw_sql": raw, "columns": cols,
                  "tests": [], "column_lineage": lineage})
    for p in parents:
        edges.append([p, uid])
    return uid


roots = []
for i in range(n_roots):
    if i % 3 == 0:
        roots.append(node(f"source.big.src.t{i}", f"src_t{i}", "source", None, "models/sources.yml", []))
    else:
        roots.append(node(f"seed.big.seed_{i}", f"seed_{i}", "seed", "seed", f"seeds/seed_{i}.csv", []))
staging = []
for i in range(n_staging):
    staging.append(node(f"model.big.stg_{i}", f"stg_{i}", "model", "view", f"models/staging/stg_{i}.sql",
                        [roots[i % len(roots)]]))
built = list(staging)
for i in range(n - n_roots - n_staging):
    window = built[-max(40, len(built) // 3):]
    parents = sorted(set(rng.sample(window, k=min(len(window), rng.randint(1, 3)))))
    kind, mat = ("snapshot", "snapshot") if i % 50 == 49 else ("model", rng.choice(["table", "view", "incremental"]))
    built.append(node(f"model.big.m_{i}" if kind == "model" else f"snapshot.big.snap_{i}",
                      f"mart_{i}" if kind == "model" else f"snap_{i}", kind, mat, f"models/marts/m_{i}.sql", parents))

json.dump({"project": "big", "generated_at": "2026-11-27T03:00:00Z", "nodes": nodes, "edges": edges},
          open(out, "w"))
print(out, len(nodes), "nodes", len(edges), "edges")
