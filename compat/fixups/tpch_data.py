#!/usr/bin/env python3
"""A tiny deterministic TPC-H data set (the eight tables, TPC-H's columns and
types, a few hundred rows) in schema `raw` of the tool's database, for
DataRecce/dbt-tpch, whose README generates it with DuckDB's `tpch` extension
(a download, unavailable offline). compat/run runs this in each tool's copy
with COMPAT_ENGINE and COMPAT_DUCKDB (the file) or COMPAT_PG (a libpq dsn)."""

import os
import random
from datetime import date, timedelta

rng = random.Random(18)
REGIONS = ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"]
NATIONS = [("ALGERIA", 0), ("ARGENTINA", 1), ("BRAZIL", 1), ("CANADA", 1), ("EGYPT", 4),
           ("ETHIOPIA", 0), ("FRANCE", 3), ("GERMANY", 3), ("INDIA", 2), ("INDONESIA", 2),
           ("IRAN", 4), ("IRAQ", 4), ("JAPAN", 2), ("JORDAN", 4), ("KENYA", 0), ("MOROCCO", 0),
           ("MOZAMBIQUE", 0), ("PERU", 1), ("CHINA", 2), ("ROMANIA", 3), ("SAUDI ARABIA", 4),
           ("VIETNAM", 2), ("RUSSIA", 3), ("UNITED KINGDOM", 3), ("UNITED STATES", 1)]
SEGMENTS = ["AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD", "MACHINERY"]
PRIORITIES = ["1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"]
MODES = ["AIR", "FOB", "MAIL", "RAIL", "REG AIR", "SHIP", "TRUCK"]
INSTRUCT = ["COLLECT COD", "DELIVER IN PERSON", "NONE", "TAKE BACK RETURN"]
TYPES = ["STANDARD", "SMALL", "MEDIUM", "LARGE", "ECONOMY", "PROMO"]
METALS = ["TIN", "NICKEL", "BRASS", "STEEL", "COPPER"]
CONTAINERS = ["SM CASE", "LG BOX", "MED BAG", "JUMBO PKG", "WRAP DRUM"]


def money(lo, hi):
    return round(rng.uniform(lo, hi), 2)


def text(n=3):
    words = ["quickly", "final", "deposits", "regular", "accounts", "carefully", "ironic",
             "packages", "blithely", "express", "requests", "furiously", "bold", "pending"]
    return " ".join(rng.choice(words) for _ in range(n))


tables = {
    "region": (["r_regionkey integer", "r_name varchar", "r_comment varchar"],
               [(i, r, text()) for i, r in enumerate(REGIONS)]),
    "nation": (["n_nationkey integer", "n_name varchar", "n_regionkey integer", "n_comment varchar"],
               [(i, n, r, text()) for i, (n, r) in enumerate(NATIONS)]),
}
N_SUPP, N_PART, N_CUST, N_ORD = 20, 60, 80, 400
tables["supplier"] = (
    ["s_suppkey integer", "s_name varchar", "s_address varchar", "s_nationkey integer",
     "s_phone varchar", "s_acctbal decimal(15,2)", "s_comment varchar"],
    [(k, f"Supplier#{k:09d}", text(2), rng.randrange(25), f"{10 + k % 25}-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}",
      money(-999, 9999), text()) for k in range(1, N_SUPP + 1)])
tables["part"] = (
    ["p_partkey integer", "p_name varchar", "p_mfgr varchar", "p_brand varchar", "p_type varchar",
     "p_size integer", "p_container varchar", "p_retailprice decimal(15,2)", "p_comment varchar"],
    [(k, text(4), f"Manufacturer#{1 + k % 5}", f"Brand#{1 + k % 5}{1 + k % 4}",
      f"{rng.choice(TYPES)} ANODIZED {rng.choice(METALS)}", rng.randint(1, 50), rng.choice(CONTAINERS),
      money(900, 2000), text(2)) for k in range(1, N_PART + 1)])
tables["partsupp"] = (
    ["ps_partkey integer", "ps_suppkey integer", "ps_availqty integer", "ps_supplycost decimal(15,2)",
     "ps_comment varchar"],
    [(p, 1 + (p + i * 5) % N_SUPP, rng.randint(1, 9999), money(1, 1000), text())
     for p in range(1, N_PART + 1) for i in range(4)])
tables["customer"] = (
    ["c_custkey integer", "c_name varchar", "c_address varchar", "c_nationkey integer", "c_phone varchar",
     "c_acctbal decimal(15,2)", "c_mktsegment varchar", "c_comment varchar"],
    [(k, f"Customer#{k:09d}", text(2), rng.randrange(25), f"{10 + k % 25}-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}",
      money(-999, 9999), rng.choice(SEGMENTS), text()) for k in range(1, N_CUST + 1)])
orders, lines = [], []
for k in range(1, N_ORD + 1):
    odate = date(1992, 1, 1) + timedelta(days=rng.randrange(0, 2400))
    total = 0.0
    statuses = []
    for ln in range(1, rng.randint(1, 6) + 1):
        part = rng.randint(1, N_PART)
        supp = 1 + (part + rng.randrange(4) * 5) % N_SUPP
        qty = rng.randint(1, 50)
        price = round(qty * rng.uniform(900, 2000), 2)
        disc, tax = round(rng.randint(0, 10) / 100, 2), round(rng.randint(0, 8) / 100, 2)
        ship = odate + timedelta(days=rng.randint(1, 121))
        commit = odate + timedelta(days=rng.randint(30, 90))
        receipt = ship + timedelta(days=rng.randint(1, 30))
        status = "F" if ship <= date(1995, 6, 17) else "O"
        statuses.append(status)
        flag = ("R" if rng.random() < 0.5 else "A") if receipt <= date(1995, 6, 17) else "N"
        total += price * (1 + tax) * (1 - disc)
        lines.append((k, part, supp, ln, qty, price, disc, tax, flag, status, ship, commit, receipt,
                      rng.choice(INSTRUCT), rng.choice(MODES), text(2)))
    ostatus = "F" if set(statuses) == {"F"} else "O" if set(statuses) == {"O"} else "P"
    orders.append((k, rng.randint(1, N_CUST), ostatus, round(total, 2), odate, rng.choice(PRIORITIES),
                   f"Clerk#{rng.randint(1, 50):09d}", 0, text()))
tables["orders"] = (
    ["o_orderkey integer", "o_custkey integer", "o_orderstatus varchar", "o_totalprice decimal(15,2)",
     "o_orderdate date", "o_orderpriority varchar", "o_clerk varchar", "o_shippriority integer",
     "o_comment varchar"], orders)
tables["lineitem"] = (
    ["l_orderkey integer", "l_partkey integer", "l_suppkey integer", "l_linenumber integer",
     "l_quantity decimal(15,2)", "l_extendedprice decimal(15,2)", "l_discount decimal(15,2)",
     "l_tax decimal(15,2)", "l_returnflag varchar", "l_linestatus varchar", "l_shipdate date",
     "l_commitdate date", "l_receiptdate date", "l_shipinstruct varchar", "l_shipmode varchar",
     "l_comment varchar"], lines)


def load(execute, many, placeholder):
    execute("create schema if not exists raw")
    for name, (cols, rows) in tables.items():
        execute(f"drop table if exists raw.{name}")
        execute(f"create table raw.{name} ({', '.join(cols)})")
        many(f"insert into raw.{name} values ({', '.join([placeholder] * len(cols))})", rows)


if os.environ.get("COMPAT_ENGINE") == "postgres":
    import psycopg2
    con = psycopg2.connect(os.environ["COMPAT_PG"])
    con.autocommit = True
    cur = con.cursor()
    load(cur.execute, cur.executemany, "%s")
else:
    import duckdb
    con = duckdb.connect(os.environ["COMPAT_DUCKDB"])
    load(con.execute, con.executemany, "?")
    con.close()
