"""bench/store: capture throughput into SQLite and PostgreSQL, wharf's store
beside the same rows written from Python (sqlite3.executemany; psycopg2's
execute_values), batch by batch, each batch one transaction. Prints a
markdown table; see bench/README.md."""

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, "build", "bin", "capture_bench")
INPUTS = ('{"inputs":[{"name":"input-0","shape":[1,11],"datatype":"FP32",'
          '"data":[7.4,0.7,0.0,1.9,0.076,11.0,34.0,0.9978,3.51,0.56,9.4]}]}')
OUTPUTS = '{"model_name":"wine","outputs":[{"name":"label","datatype":"BYTES","shape":[1],"data":["5"]}]}'
SCHEMA = ("CREATE TABLE captures (seq {seq}, id TEXT NOT NULL, time_us BIGINT NOT NULL, endpoint TEXT NOT NULL, "
          "variant TEXT NOT NULL, model_version TEXT NOT NULL, shadow INTEGER NOT NULL, inputs TEXT NOT NULL, "
          "outputs TEXT NOT NULL, latency_ms DOUBLE PRECISION NOT NULL, status INTEGER NOT NULL)")
INDEXES = ["CREATE INDEX captures_time ON captures (endpoint, time_us)",
           "CREATE INDEX captures_id ON captures (endpoint, id)"]


def rows_of(start, n):
    return [(f"req-{i}", 1795000000000000 + i, "wine", "default", "1", 0, INPUTS, OUTPUTS, 0.05, 200)
            for i in range(start, start + n)]


def wharf(location, rows, batch, durability):
    out = subprocess.run([BENCH, location, str(rows), str(batch), durability], capture_output=True, text=True,
                         check=True).stdout
    return float(out.split()[0])


def python_sqlite(path, rows, batch, durability):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={'FULL' if durability == 'full' else 'NORMAL'}")
    db.execute(SCHEMA.format(seq="INTEGER PRIMARY KEY"))
    for sql in INDEXES:
        db.execute(sql)
    start = time.perf_counter()
    for first in range(0, rows, batch):
        db.execute("BEGIN")
        db.executemany("INSERT INTO captures (id, time_us, endpoint, variant, model_version, shadow, inputs, "
                       "outputs, latency_ms, status) VALUES (?,?,?,?,?,?,?,?,?,?)",
                       rows_of(first, min(batch, rows - first)))
        db.execute("COMMIT")
    return rows / (time.perf_counter() - start)


def python_postgres(url, rows, batch, durability):
    import psycopg2
    import psycopg2.extras
    db = psycopg2.connect(url)
    with db.cursor() as cur:
        cur.execute(f"SET synchronous_commit = {'on' if durability == 'full' else 'off'}")
        cur.execute("DROP TABLE IF EXISTS captures")
        cur.execute(SCHEMA.format(seq="BIGSERIAL PRIMARY KEY"))
        for sql in INDEXES:
            cur.execute(sql)
    db.commit()
    start = time.perf_counter()
    for first in range(0, rows, batch):
        with db.cursor() as cur:
            psycopg2.extras.execute_values(
                cur, "INSERT INTO captures (id, time_us, endpoint, variant, model_version, shadow, inputs, outputs, "
                     "latency_ms, status) VALUES %s", rows_of(first, min(batch, rows - first)), page_size=batch)
        db.commit()
    db.close()
    return rows / (time.perf_counter() - start)


def psql(url, sql):
    subprocess.run(["psql", "-q", url, "-c", sql], check=True, capture_output=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100000, help="rows per run with batches of 64 and more")
    args = parser.parse_args()
    if not os.path.exists(BENCH):
        sys.exit("bench/store: build first (cmake --build build --target capture_bench)")
    work = tempfile.mkdtemp(prefix="wharf-bench-store-", dir="/tmp")
    os.chmod(work, 0o755)  # pg-up hands pg/ to the postgres user, who must be able to reach it
    pg_dir = os.path.join(work, "pg")
    results = []
    try:
        url = subprocess.run([os.path.join(ROOT, "scripts", "pg-up"), pg_dir], capture_output=True, text=True,
                             check=True).stdout.strip()
        runs = 0
        for backend in ("sqlite", "postgresql"):
            for durability in ("full", "crash"):
                for batch in (1, 64, 1024):
                    rows = args.rows if batch > 1 else max(1, args.rows // 20)
                    runs += 1
                    if backend == "sqlite":
                        ours = wharf(os.path.join(work, f"w{runs}.db"), rows, batch, durability)
                        peer = python_sqlite(os.path.join(work, f"p{runs}.db"), rows, batch, durability)
                    else:
                        psql(url, f"CREATE DATABASE w{runs}")
                        base = url.rsplit("/", 1)[0]
                        ours = wharf(f"{base}/w{runs}", rows, batch, durability)
                        peer = python_postgres(url, rows, batch, durability)
                    results.append((backend, durability, batch, rows, ours, peer))
                    print(f"{backend} {durability} batch {batch}: wharf {ours:,.0f} rows/s, python {peer:,.0f}",
                          file=sys.stderr)
    finally:
        subprocess.run([os.path.join(ROOT, "scripts", "pg-down"), pg_dir], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)

    print("| backend | commits survive | rows per transaction | rows | wharf rows/s | python rows/s | wharf / python |")
    print("|---|---|---|---|---|---|---|")
    for backend, durability, batch, rows, ours, peer in results:
        survive = "power loss" if durability == "full" else "process crash"
        print(f"| {backend} | {survive} | {batch} | {rows} | {ours:,.0f} | {peer:,.0f} | {ours / peer:.2f}x |")


if __name__ == "__main__":
    main()
