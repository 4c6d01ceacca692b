"""Driver for bench/scale/run: one model trained on a generated file by one
process, by N MPI ranks (`wharf train --ranks N`), and by the Python peers;
whole-process wall time (median of REPEATS) and the peak resident memory of
the largest process (for ranks: the largest rank)."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROWS, REPEATS, ROUNDS = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ONLY = sys.argv[4] if len(sys.argv) > 4 else "all"  # logistic | xgboost | all
DATA = "bench/scale/data"
TRAIN, VALID = f"{DATA}/train-{ROWS}-1.csv", f"{DATA}/validation-100000-1.csv"
WHARF = "build/bin/wharf"
PEERS = "bench/scale/peers.py"


def timed(argv):
    """Runs argv; (seconds, peak RSS in MiB of its largest process, stdout)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdout=out, stderr=err, text=True)
        # wait4's usage covers the child and the descendants it waited for
        # (mpirun's ranks): ru_maxrss is the largest of them.
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            sys.exit(f"{' '.join(argv)} failed ({child.returncode}):\n{err.read()}")
        return seconds, usage.ru_maxrss / 1024, out.read()


def wharf(estimator, *extra):
    params = ["--param", f"num_round={ROUNDS}"] if estimator == "xgboost" else []

    def run(out):
        seconds, rss, _ = timed([WHARF, "train", "--train", TRAIN, "--validation", VALID, "--out", out,
                                 "--estimator", estimator, *params, *extra])
        with open(os.path.join(out, "metrics.json")) as f:
            return json.load(f)["validation"]["weighted_f1"], seconds, rss
    return run


def peer(kind):
    def run(_):
        seconds, rss, out = timed(["/usr/bin/python3", PEERS, kind, TRAIN, VALID, str(ROUNDS)])
        return json.loads(out)["weighted_f1"], seconds, rss
    return run


GROUPS = [
    ("logistic", [
        ("python sklearn StandardScaler+LogisticRegression", peer("sklearn-logistic")),
        ("wharf, one process (--threads 2)", wharf("logistic", "--threads", "2")),
        ("wharf --ranks 1", wharf("logistic", "--ranks", "1")),
        ("wharf --ranks 2 (1 core each)", wharf("logistic", "--ranks", "2")),
        ("wharf --ranks 4 (oversubscribed: 4 ranks on 2 cores)", wharf("logistic", "--ranks", "4", "--threads", "1")),
    ]),
    (f"xgboost (hist, depth 4, {ROUNDS} rounds, subsample 0.8)", [
        ("python xgboost (n_jobs 2)", peer("xgboost")),
        ("wharf, one process (--threads 2)", wharf("xgboost", "--threads", "2")),
        ("wharf --ranks 1", wharf("xgboost", "--ranks", "1")),
        ("wharf --ranks 2 (1 core each)", wharf("xgboost", "--ranks", "2")),
    ]),
]

print(f"{ROWS:,} training rows, 100,000 validation rows, median of {REPEATS}", file=sys.stderr)
tables = []
with tempfile.TemporaryDirectory() as tmp:
    for title, cases in GROUPS:
        if ONLY != "all" and not title.startswith(ONLY):
            continue
        rows = []
        for name, run in cases:
            results = [run(os.path.join(tmp, f"{title[:3]}-{len(rows)}-{i}")) for i in range(REPEATS)]
            f1 = results[-1][0]
            seconds = statistics.median(r[1] for r in results)
            rss = max(r[2] for r in results)
            rows.append((name, f1, seconds, rss))
            print(f"{title} | {name}: F1 {f1:.4f}, {seconds:.1f} s, {rss:.0f} MiB", file=sys.stderr)
        tables.append((title, rows))

for title, rows in tables:
    base = rows[0][2]
    print(f"\n**{title}**\n")
    print("| run | validation weighted F1 | wall time (s) | time / Python peer | peak RSS of the largest process (MiB) |")
    print("|---|---|---|---|---|")
    for name, f1, seconds, rss in rows:
        print(f"| {name} | {f1:.4f} | {seconds:.1f} | {seconds / base:.2f}x | {rss:.0f} |")
