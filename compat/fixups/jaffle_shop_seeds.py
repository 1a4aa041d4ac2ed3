#!/usr/bin/env python3
"""dbt-labs/jaffle-shop's two largest seeds (raw_orders.csv, raw_items.csv) may
be absent from a stored snapshot of the repository. When they are, write small
deterministic stand-ins with the same columns, made from the seeds that are
there (customers, stores, products), so the project builds. Runs in the
project's copy, never in the fetched clone."""

import csv
import random
import uuid
from datetime import datetime, timedelta
from pathlib import Path

data = Path("seeds/jaffle-data")
orders_csv, items_csv = data / "raw_orders.csv", data / "raw_items.csv"
if not (orders_csv.exists() and items_csv.exists()):
    rng = random.Random(18)

    def rows(name):
        with open(data / name, newline="") as f:
            return list(csv.DictReader(f))

    customers = [r["id"] for r in rows("raw_customers.csv")]
    stores = rows("raw_stores.csv")
    products = rows("raw_products.csv")
    start = datetime(2016, 9, 1)
    orders, items = [], []
    for _ in range(1500):
        store = rng.choice(stores)
        at = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 365))
        order_id = str(uuid.UUID(int=rng.getrandbits(128)))
        skus = [rng.choice(products) for _ in range(rng.randint(1, 4))]
        subtotal = sum(int(p["price"]) for p in skus)
        tax = round(subtotal * float(store["tax_rate"]))
        orders.append([order_id, rng.choice(customers), at.strftime("%Y-%m-%dT%H:%M:%S"),
                       store["id"], subtotal, tax, subtotal + tax])
        for p in skus:
            items.append([str(uuid.UUID(int=rng.getrandbits(128))), order_id, p["sku"]])
    with open(orders_csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "customer", "ordered_at", "store_id", "subtotal", "tax_paid", "order_total"])
        w.writerows(orders)
    with open(items_csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "order_id", "sku"])
        w.writerows(items)
