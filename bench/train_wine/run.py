"""Driver for bench/train_wine/run: times whole processes, median of N."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPEATS = int(sys.argv[1])
TRAIN, VALID = "examples/wine/TrainingDataset.csv", "examples/wine/ValidationDataset.csv"
WHARF = "build/bin/wharf"
PEERS = "bench/train_wine/peers.py"


def wharf(*extra):
    def run(out):
        subprocess.run([WHARF, "train", "--train", TRAIN, "--validation", VALID, "--out", out, *extra],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(os.path.join(out, "metrics.json")) as f:
            return json.load(f)["validation"]["weighted_f1"]
    return run


def peer(kind):
    def run(_):
        out = subprocess.run(["/usr/bin/python3", PEERS, kind, TRAIN, VALID], check=True, capture_output=True,
                             text=True).stdout
        return json.loads(out)["weighted_f1"]
    return run


CASES = [
    ("python sklearn StandardScaler+LogisticRegression", peer("sklearn-logistic")),
    ("python sklearn HistGradientBoosting", peer("sklearn-hgb")),
    ("python sklearn RandomForest(300)", peer("sklearn-rf")),
    ("python sklearn RandomForestRegressor(200, depth 14), rounded", peer("sklearn-rf-ordinal")),
    ("python xgboost (depth 4, 300 rounds)", peer("xgboost")),
    ("wharf train (default: rf ordinal, 200 trees, depth 14)", wharf()),
    ("wharf train --estimator logistic", wharf("--estimator", "logistic")),
    ("wharf train --estimator xgboost", wharf("--estimator", "xgboost")),
    ("wharf train --estimator auto --trials 24 --parallel 2", wharf("--estimator", "auto", "--trials", "24",
                                                                    "--parallel", "2")),
]

rows = []
with tempfile.TemporaryDirectory() as tmp:
    for name, run in CASES:
        times, f1 = [], None
        for i in range(REPEATS):
            start = time.perf_counter()
            f1 = run(os.path.join(tmp, f"{len(rows)}-{i}"))
            times.append(time.perf_counter() - start)
        rows.append((name, f1, statistics.median(times)))
        print(f"{name}: F1 {f1:.4f}, {statistics.median(times):.3f} s", file=sys.stderr)

base = rows[0][2]
print(f"| run (median of {REPEATS}) | validation weighted F1 | wall time (s) | time / sklearn logistic |")
print("|---|---|---|---|")
for name, f1, t in rows:
    print(f"| {name} | {f1:.4f} | {t:.3f} | {t / base:.2f}x |")
