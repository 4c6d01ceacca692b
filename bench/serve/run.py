"""Driver for bench/serve/run: starts each server on a free port, loads it with
wrk, stops it, and prints one markdown table. Run from the repository root
under /usr/bin/python3 (the peers need Debian's python3-flask, python3-sklearn
and gunicorn)."""
import argparse
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from wrk_output import parse_wrk  # noqa: E402

WHARF = "build/bin/wharf"
ECHO = "build/bin/echo_server"
ENDPOINT = "examples/iris/endpoint.yaml"
MODELFILE = "out/iris/Modelfile"
PEER_DIR = "bench/peers"
RUN_LUA = "bench/serve/post_run.lua"
V2_LUA = "bench/serve/post_v2.lua"
BASELINE = "gunicorn"
FLOOR = "echo"


class Row:
    """One server configuration: how to start it and what to load it with."""

    def __init__(self, key, title, command, path="/run/", lua=RUN_LUA, env=None, needs=None):
        # command(port, database path) -> argv
        self.key, self.title, self.command, self.path, self.lua = key, title, command, path, lua
        self.env = env or {}
        self.needs = needs  # a function returning None when the row can run, else why not


def wharf(mode):
    return lambda port, db: [WHARF, "serve", "--config", ENDPOINT, "--host", "127.0.0.1", "--port", str(port),
                             "--threads", "2", "--capture", mode, "--db", db]


def flask(capture):
    return lambda port, db: ["/usr/bin/python3", os.path.join(PEER_DIR, "classic_app.py"), "--port", str(port),
                             "--db", db] + ([] if capture else ["--no-capture"])


def gunicorn(port, db):  # the database comes in CLASSIC_DB
    return ["/usr/bin/python3", "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--chdir", PEER_DIR,
            "--log-level", "warning", "classic_app:create_app()"]


def wharf_serve_missing():
    if not os.access(WHARF, os.X_OK):
        return f"{WHARF} is not built"
    help_text = subprocess.run([WHARF, "--help"], capture_output=True, text=True).stdout
    if not re.search(r"^\s+serve\s", help_text, re.M):
        return f"{WHARF} has no `serve` subcommand yet"
    if not os.path.exists(MODELFILE):
        subprocess.run([WHARF, "train", "--train", "examples/iris/iris.csv", "--label", "species", "--estimator",
                        "logistic", "--out", os.path.dirname(MODELFILE)], check=True, stdout=subprocess.DEVNULL)
    return None


def echo_missing():
    return None if os.access(ECHO, os.X_OK) else f"{ECHO} is not built (cmake --build build --target echo_server)"


ROWS = [
    Row("echo", "echo floor (Beast, no model, 2 threads)", lambda port, db: [ECHO, "--port", str(port), "--threads",
                                                                             "2"], needs=echo_missing),
    Row("wharf-off", "wharf serve /run/, capture off", wharf("off"), needs=wharf_serve_missing),
    Row("wharf-async", "wharf serve /run/, capture async", wharf("async"), needs=wharf_serve_missing),
    Row("wharf-durable", "wharf serve /run/, capture durable", wharf("durable"), needs=wharf_serve_missing),
    Row("wharf-v2", "wharf serve v2 infer, capture async", wharf("async"), path="/v2/models/iris/infer",
        lua=V2_LUA, needs=wharf_serve_missing),
    Row("flask", "Flask dev server classic_app, SQLite capture", flask(True)),
    Row("flask-nocapture", "Flask dev server classic_app, no capture", flask(False)),
    Row("gunicorn", "gunicorn -w 2 classic_app, SQLite capture", gunicorn,
        env={"CLASSIC_CAPTURE": "1"}),
    Row("gunicorn-nocapture", "gunicorn -w 2 classic_app, no capture", gunicorn, env={"CLASSIC_CAPTURE": "0"}),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url, server, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with status {server.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url + "/", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url}/ not ready after {seconds} s")


def stop(server):
    if server.poll() is not None:
        return
    try:
        os.killpg(server.pid, signal.SIGTERM)  # the whole group: gunicorn's workers too
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    except ProcessLookupError:
        pass


def wrk(url, lua, duration, connections, latency=True):
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "-s", lua, url] + (["--latency"] if latency else [])
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def measure(row, args, tmp):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(os.path.join(tmp, f"{row.key}.log"), "w")
    db = os.path.join(tmp, f"{row.key}.db")  # a fresh database per row
    server = subprocess.Popen(row.command(port, db), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                              env={**os.environ, "CLASSIC_DB": db, **row.env})
    try:
        wait_ready(url, server)
        wrk(url + row.path, row.lua, args.warmup, args.connections, latency=False)
        return parse_wrk(wrk(url + row.path, row.lua, args.duration, args.connections))
    except (RuntimeError, subprocess.CalledProcessError) as e:
        log.flush()
        with open(log.name) as f:
            tail = f.read()[-2000:]
        raise RuntimeError(f"{row.key}: {e}\n--- server log ---\n{tail}") from e
    finally:
        stop(server)
        log.close()


def ratio(value, base):
    return f"{value / base:.2f}x" if base else "n/a"


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = re.search(r"model name\s*:\s*(.*)", f.read()).group(1)
    except (OSError, AttributeError):
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def main():
    parser = argparse.ArgumentParser(description="bench/serve: wharf serve vs the classic Flask app vs the HTTP floor")
    parser.add_argument("--duration", type=int, default=10, help="seconds of measured load per row")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--only", default="", help="comma-separated row names: " + ", ".join(r.key for r in ROWS))
    args = parser.parse_args()
    only = {key for key in args.only.split(",") if key}
    if unknown := only - {r.key for r in ROWS}:
        sys.exit(f"unknown row {', '.join(sorted(unknown))}; known: {', '.join(r.key for r in ROWS)}")

    # Turn SIGTERM into an exception so the finally blocks stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results, notes = {}, []
    with tempfile.TemporaryDirectory(prefix="wharf-bench-serve-") as tmp:
        for row in ROWS:
            if only and row.key not in only:
                continue
            if row.needs and (why := row.needs()):
                notes.append(f"skipped {row.key}: {why}")
                continue
            print(f"[{row.key}] {row.title} ...", file=sys.stderr, flush=True)
            try:
                results[row.key] = measure(row, args, tmp)
            except RuntimeError as e:
                print(e, file=sys.stderr)
                notes.append(f"failed {row.key}: {str(e).splitlines()[0]} (server log above, on stderr)")

    base = results.get(BASELINE, {}).get("rps")
    floor = results.get(FLOOR, {}).get("rps")
    print(f"wrk -t1 -c{args.connections} -d{args.duration}s --latency (after {args.warmup}s warm-up); "
          f"{machine()}; {time.strftime('%Y-%m-%d')}\n")
    print("| server | req/s | p50 ms | p99 ms | req/s ratio vs gunicorn | req/s vs echo floor | errors |")
    print("|---|---|---|---|---|---|---|")
    for row in ROWS:
        if r := results.get(row.key):
            print(f"| {row.title} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {ratio(r['rps'], base)} | "
                  f"{ratio(r['rps'], floor)} | {r['errors']} |")
    if notes:
        print()
    for note in notes:
        print(f"- {note}")


if __name__ == "__main__":
    main()
