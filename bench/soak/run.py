#!/usr/bin/python3
"""Soak test of `wharf server` with one managed endpoint (2 replicas, two
variants over two wine models, async capture of every request).

For MINUTES minutes it keeps a mixed load on it:
  - wrk posting KServe v2 requests (-c16), one wrk per minute, so each minute
    has its own req/s and latency percentiles;
  - a client posting classic /run/ requests;
  - a client reading the control API (tasks, endpoint, metrics, captures) and
    submitting a short task every 5 s;
and every minute it applies a new revision (weights 50/50) and rolls it back.
Every 5 s it samples the RSS and open fds of the server and of the replicas
(a replica's RSS is judged less its bounded memory, SQLite's page cache and
the capture queue, which its /metrics report; the peak is checked against
those bounds),
and the size of the capture store's write-ahead log; at the end it reads the
replicas' capture counters (written, dropped, failed).

Prints a markdown table per minute and a verdict: RSS flat within 10% (its
floor over minutes 2–3 against the last two), no fd growth, p99 stable, no
errors, no failed capture write.
Run from the repository root (bench/soak/run does).
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from wrk_output import parse_wrk  # noqa: E402

WHARF = os.path.abspath("build/bin/wharf")
WINE = os.path.abspath("examples/wine")
LUA = os.path.abspath("bench/soak/post_wine.lua")
ENDPOINT = "soak"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`wharf server` on a temporary home, and its REST API."""

    def __init__(self, home):
        self.home = home
        self.log = open(os.path.join(home, "server.out"), "w")
        self.process = subprocess.Popen([WHARF, "server", "--home", home, "--port", "0", "--cpus", "2"],
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        server_json = os.path.join(home, "server.json")
        for _ in range(600):
            if os.path.exists(server_json):
                break
            if self.process.poll() is not None:
                sys.exit(f"wharf server exited with {self.process.returncode}")
            time.sleep(0.05)
        with open(server_json) as f:
            self.url = json.load(f)["url"]
        with open(os.path.join(home, "server.token")) as f:
            self.token = f.read().strip()

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")

    def stop(self):
        try:
            self.call("DELETE", f"/api/endpoints/{ENDPOINT}")
            time.sleep(2)
        except (urllib.error.URLError, OSError):
            pass
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def register_models(home, work):
    env = {**os.environ, "WHARF_HOME": home}
    for estimator in ("logistic", "xgboost"):
        out = os.path.join(work, estimator)
        subprocess.run([WHARF, "train", "--train", f"{WINE}/TrainingDataset.csv", "--validation",
                        f"{WINE}/ValidationDataset.csv", "--estimator", estimator, "--out", out],
                       check=True, capture_output=True, env=env)
        subprocess.run([WHARF, "model", "register", "wine", os.path.join(out, "Modelfile")], check=True,
                       capture_output=True, env=env)


def spec(port, weights):
    return {"name": ENDPOINT, "port": port, "replicas": {"min": 2, "cpus": 0.25},
            "variants": [{"name": "blue", "model": "wine@1", "weight": weights[0]},
                         {"name": "green", "model": "wine@2", "weight": weights[1]}],
            "capture": {"mode": "async", "sample_percent": 100}}


def replicas(server):
    """{pid: admin URL} of the endpoint's replicas."""
    found = {}
    for replica in server.call("GET", f"/api/endpoints/{ENDPOINT}").get("replicas", []):
        path = os.path.join(server.home, "artifacts", "tasks", replica["task_id"], "replica.json")
        try:
            with open(path) as f:
                announced = json.load(f)
            found[int(announced["pid"])] = announced["admin_url"]
        except (OSError, ValueError, KeyError):
            pass
    return found


def metrics(admin_url):
    """A replica's /metrics as {name: value} (unlabelled samples only)."""
    try:
        with urllib.request.urlopen(admin_url + "/metrics", timeout=10) as response:
            text = response.read().decode()
    except OSError:
        return {}
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^(wharf_[a-z_]+) ([0-9.e+-]+)$", text, re.M)}


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1)) / 1024
    except (OSError, AttributeError):
        return 0.0


def file_mib(path):
    try:
        return os.path.getsize(path) / (1 << 20)
    except OSError:
        return 0.0


def capture_counters(server):
    """wharf_capture_{written,dropped,failed}_total summed over the replicas (their admin /metrics)."""
    totals = {"written": 0, "dropped": 0, "failed": 0}
    for admin in replicas(server).values():
        values = metrics(admin)
        for name in totals:
            totals[name] += int(values.get(f"wharf_capture_{name}_total", 0))
    return totals


def capture_errors(home, most=3):
    """The replicas' reports of failed capture writes (their task logs), before the work dir goes."""
    found = []
    for root, _, files in os.walk(os.path.join(home, "runs")):
        if "stderr.log" in files:
            with open(os.path.join(root, "stderr.log"), errors="replace") as f:
                found += [line.strip() for line in f if "capture write failed" in line]
    return found[:most]


def fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


class Background(threading.Thread):
    """Classic /run/ requests, control API reads and a task every 5 s, until stopped."""

    def __init__(self, server, port, fields):
        super().__init__(daemon=True)
        self.server, self.port, self.fields = server, port, fields
        self.stopping = threading.Event()
        self.runs = self.run_errors = self.api_calls = self.api_errors = self.tasks = self.deploy_errors = 0
        self.first_error = ""

    def run(self):
        row = [7.4, 0.7, 0, 1.9, 0.076, 11, 34, 0.9978, 3.51, 0.56, 9.4]
        i = 0
        next_task = time.time()
        while not self.stopping.is_set():
            i += 1
            body = json.dumps({"id": f"soak-run-{i}", "request_time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                               "inputs": dict(zip(self.fields, row))}).encode()
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{self.port}/run/", data=body, method="POST",
                                                 headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=10) as response:
                    response.read()
                self.runs += 1
            except (urllib.error.URLError, OSError) as e:
                self.run_errors += 1
                self.first_error = self.first_error or f"/run/: {e}"
            if i % 5 == 0:
                for path in ("/api/tasks?limit=20", f"/api/endpoints/{ENDPOINT}", f"/api/endpoints/{ENDPOINT}/metrics",
                             f"/api/endpoints/{ENDPOINT}/captures?limit=20"):
                    try:
                        self.server.call("GET", path)
                        self.api_calls += 1
                    except (urllib.error.URLError, OSError) as e:
                        self.api_errors += 1
                        self.first_error = self.first_error or f"{path}: {e}"
            if time.time() >= next_task:
                next_task += 5
                try:
                    self.server.call("POST", "/api/runs", {"taskdef": "soak-tick"})
                    self.tasks += 1
                except (urllib.error.URLError, OSError) as e:
                    self.api_errors += 1
                    self.first_error = self.first_error or f"/api/runs: {e}"
            time.sleep(0.01)


class Sampler(threading.Thread):
    """RSS and fds of the server and the replicas every 5 s."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server = server
        self.stopping = threading.Event()
        # (time, server rss, server fds, {replica pid: (rss, rss less its bounded memory, sqlite)}, replica fds sum,
        #  capture WAL MiB)
        self.samples = []

    def run(self):
        while not self.stopping.wait(5):
            try:
                found = replicas(self.server)
            except (urllib.error.URLError, OSError):
                found = {}
            memory = {}
            for p, admin in found.items():
                rss, values = rss_mib(p), metrics(admin)
                sqlite = values.get("wharf_sqlite_memory_bytes", 0) / (1 << 20)
                memory[p] = (rss, rss - sqlite - values.get("wharf_capture_queue_bytes", 0) / (1 << 20), sqlite)
            pid = self.server.process.pid
            self.samples.append((time.time(), rss_mib(pid), fds(pid), memory, sum(fds(p) for p in found),
                                 file_mib(os.path.join(self.server.home, "wharf-captures.db-wal"))))


def wait_ready(server, replicas, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        info = server.call("GET", f"/api/endpoints/{ENDPOINT}")
        ready = [r for r in info.get("replicas", []) if r.get("ready")]
        if len(ready) >= replicas and all(r.get("revision") == info["revision"]["revision"] for r in ready):
            return
        time.sleep(0.5)
    sys.exit(f"endpoint not ready after {timeout}s")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--record", action="store_true",
                        help="write the table into docs/reliability.md and bench/README.md")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench/soak: wrk is not installed (scripts/install-deps)")

    work = tempfile.mkdtemp(prefix="wharf-soak-")
    home = os.path.join(work, "home")
    os.makedirs(home)
    register_models(home, work)
    with open(f"{WINE}/TrainingDataset.csv") as f:
        fields = [name.strip().strip('"') for name in f.readline().strip().split(";")]

    server = Server(home)
    port = free_port()
    minutes = []
    try:
        server.call("POST", "/api/taskdefs", {"name": "soak-tick", "command": ["sleep", "0.2"], "timeout": "1m"})
        server.call("POST", "/api/endpoints", spec(port, [90, 10]))
        wait_ready(server, 2)
        url = f"http://127.0.0.1:{port}/v2/models/{ENDPOINT}/infer"
        subprocess.run(["wrk", "-t1", "-c16", "-d5s", "-s", LUA, url], check=True, capture_output=True)  # warm-up
        background = Background(server, port, fields)
        sampler = Sampler(server)
        background.start()
        sampler.start()
        for minute in range(1, args.minutes + 1):
            # Half a minute of load, a revision applied, half a minute more, rolled back.
            started = time.time()
            out = subprocess.run(["wrk", "-t1", "-c16", "-d60s", "--latency", "-s", LUA, url], check=True,
                                 capture_output=True, text=True)
            figures = parse_wrk(out.stdout)
            figures["minute"] = minute
            minutes.append(figures)
            print(f"minute {minute}: {figures['rps']:.0f} req/s, p50 {figures['p50']:.2f} ms, "
                  f"p99 {figures['p99']:.2f} ms, {figures['errors']} errors "
                  f"({time.time() - started:.0f}s)", file=sys.stderr, flush=True)
            for method, path, body in (("POST", "/api/endpoints", spec(port, [50, 50])),
                                       ("POST", f"/api/endpoints/{ENDPOINT}/rollback", {})):
                try:
                    server.call(method, path, body)
                    wait_ready(server, 2)
                except urllib.error.HTTPError as e:  # a failed apply or rollback is a finding, not the end
                    background.deploy_errors += 1
                    background.first_error = background.first_error or \
                        f"{method} {path}: {e.code} {e.read().decode(errors='replace')}"
        background.stopping.set()
        sampler.stopping.set()
        background.join()
        sampler.join()
        revisions = server.call("GET", f"/api/endpoints/{ENDPOINT}")["revision"]["revision"]
        captures = capture_counters(server)
        captures["errors"] = capture_errors(home)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)  # gigabytes of captures

    report(args, minutes, sampler.samples, background, revisions, captures)


def report(args, minutes, samples, background, revisions, captures):
    per_minute = {}
    start = samples[0][0] if samples else 0
    for sample in samples:
        per_minute.setdefault(min(int((sample[0] - start) // 60) + 1, len(minutes)), []).append(sample)

    lines = [f"Run of {time.strftime('%Y-%m-%d', time.gmtime())}, {os.cpu_count()} cores, Release build "
             f"(`bench/soak/run --minutes {len(minutes)}`): {revisions} endpoint revisions (an apply and a rollback "
             f"each minute); {background.runs} classic /run/ requests ({background.run_errors} failed), "
             f"{background.api_calls} control API reads ({background.api_errors} failed), {background.tasks} tasks, "
             f"{background.deploy_errors} failed applies or rollbacks; the replicas captured {captures['written']} "
             f"requests ({captures['dropped']} dropped, {captures['failed']} failed).",
             "",
             "| minute | v2 req/s | p50 ms | p99 ms | errors | server RSS MiB floor / peak | server fds floor "
             "| replicas RSS MiB less caches, floor / RSS peak | replica fds floor | capture WAL MiB peak |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    rows = []
    for m in minutes:
        s = per_minute.get(m["minute"], [])
        last = s[-1] if s else (0, 0, 0, {}, 0, 0)
        # A replica's floor is the least it held in the minute besides its
        # bounded memory: SQLite's page cache (32 MiB) and the capture queue
        # (32 MiB), which fill up as the store grows or stalls. A leak shows
        # in the floor.
        floors, sqlite = {}, {}
        for sample in s:
            for pid, (_, unbounded, cache) in sample[3].items():
                floors[pid] = min(unbounded, floors.get(pid, unbounded))
                sqlite[pid] = max(cache, sqlite.get(pid, cache))
        # Fds by their floor too: a task starting or a client connecting holds
        # some for a moment; a leak raises the least.
        row = {**m, "server_rss": min((x[1] for x in s), default=0.0), "server_peak": max((x[1] for x in s), default=0.0),
               "server_fds": min((x[2] for x in s), default=0), "replica_rss": sum(floors.values()),
               "replica_peak": max((sum(r[0] for r in x[3].values()) for x in s), default=0.0),
               "replica_sqlite": sum(sqlite.values()),
               "replicas": len(last[3]), "replica_fds": min((x[4] for x in s if x[3]), default=0), "wal_max": max((x[5] for x in s), default=0.0)}
        rows.append(row)
        lines.append(f"| {m['minute']} | {m['rps']:.0f} | {m['p50']:.2f} | {m['p99']:.2f} | {m['errors']} | "
                     f"{row['server_rss']:.1f} / {row['server_peak']:.1f} | {row['server_fds']} | "
                     f"{row['replica_rss']:.1f} / {row['replica_peak']:.1f} | {row['replica_fds']} | {row['wal_max']:.0f} |")

    verdicts = []
    if len(rows) >= 4:
        base, end = rows[1], rows[-1]  # the first minute warms caches up
        # Memory by its floor over two minutes, the start's (2–3) against the
        # end's: the allocator's swings between samples are not growth, a leak
        # raises the floor. A minute's floor misses the trough now and then.
        for name in ("server_rss", "replica_rss"):
            start_floor, end_floor = min(rows[1][name], rows[2][name]), min(rows[-2][name], rows[-1][name])
            growth = (end_floor - start_floor) / start_floor if start_floor else 0.0
            what = "server RSS floor" if name == "server_rss" else "replicas RSS less SQLite and capture queue, floor"
            verdicts.append((f"{what}, minutes 2–3 → {len(rows) - 1}–{len(rows)}: {start_floor:.1f} → "
                             f"{end_floor:.1f} MiB ({growth:+.1%})", abs(growth) <= 0.10))
        # The peak: that floor and 10%, SQLite's memory at its most (the page
        # cache slab, resident from the start, and its heap) and a full capture
        # queue (32 MiB) a replica.
        sqlite_peak = max(r["replica_sqlite"] for r in rows[1:])
        bound = min(rows[1]["replica_rss"], rows[2]["replica_rss"]) * 1.1 + sqlite_peak + 32 * end["replicas"]
        peak = max(r["replica_peak"] for r in rows[1:])
        verdicts.append((f"replicas RSS peak minutes 2–{len(rows)}: {peak:.1f} MiB (bound: that floor + 10% + SQLite "
                         f"{sqlite_peak:.1f} + 32 MiB of capture queue a replica = {bound:.1f})", peak <= bound))
        for name in ("server_fds", "replica_fds"):
            verdicts.append((f"{name.replace('_', ' ')} minute 2 → {len(rows)}: {base[name]} → {end[name]}",
                             end[name] <= base[name] + 2))
        p99s = sorted(r["p99"] for r in rows[1:])
        median = p99s[len(p99s) // 2]
        verdicts.append((f"p99 minutes 2–{len(rows)}: {p99s[0]:.2f}–{p99s[-1]:.2f} ms (max/median "
                         f"{p99s[-1] / median:.2f}, stable if ≤ 2)", p99s[-1] <= 2 * median))
    errors = sum(r["errors"] for r in rows) + background.run_errors + background.api_errors + background.deploy_errors
    verdicts.append((f"errors: {errors}" + (f" (first: {background.first_error})" if background.first_error else ""),
                     errors == 0))
    verdicts.append((f"capture writes failed: {captures['failed']} (dropped when the queue was full: "
                     f"{captures['dropped']}, counted, as async capture allows)"
                     + "".join(f"; {e}" for e in captures.get("errors", [])), captures["failed"] == 0))
    lines.append("")
    lines += [f"- {'PASS' if ok else 'FAIL'}: {text}" for text, ok in verdicts]
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"minutes": rows, "verdicts": [{"text": t, "ok": ok} for t, ok in verdicts],
                       "revisions": revisions, "captures": captures, "runs": background.runs, "api_calls": background.api_calls,
                       "tasks": background.tasks}, f, indent=1)
    if args.record:
        with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as f:
            f.write(text)
        for doc in ("docs/reliability.md", "bench/README.md"):
            subprocess.run(["scripts/record-figures", doc, "soak", f.name], check=True)
        os.unlink(f.name)
    sys.exit(0 if all(ok for _, ok in verdicts) else 1)


if __name__ == "__main__":
    main()
