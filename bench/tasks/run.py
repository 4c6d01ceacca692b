"""Driver for bench/tasks/run: the control plane's submit -> RUNNING latency and
the drain of a queue of trivial tasks, each beside plain fork/execs of the same
command (the floor). Starts `wharf server` in a temporary home on a free port,
talks to it with the standard library only (http.client), stops it with
SIGTERM and removes the home. While the server runs, this process is a child
subreaper (prctl), so the task supervisors the server detaches are reaped, and
their CPU counted, here. Run from the repository root under /usr/bin/python3."""
import argparse
import concurrent.futures
import ctypes
import datetime
import http.client
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import resource
import sys
import tempfile
import threading
import time

WHARF = "build/bin/wharf"
COMMAND = ["/bin/true"]
FINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}
LATENCY_GOAL_MS = 50.0
CPU_GOAL_SHARE = 0.5  # "not dominating": the server's own CPU below half the capacity
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    pass


# --- the server ------------------------------------------------------------------------------------------------


class Server:
    """`wharf server --home HOME --port 0 --cpus N` as a child process."""

    def __init__(self, home, cpus, start_timeout):
        self.home = home
        self.log_path = os.path.join(home, "server.log")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [WHARF, "server", "--home", home, "--host", "127.0.0.1", "--port", "0", "--cpus", str(cpus)],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            self.url = self._wait_listening(start_timeout)
            match = re.match(r"http://([^:/]+|\[[^\]]+\]):(\d+)", self.url)
            if not match:
                raise BenchError(f"cannot parse the server's URL {self.url!r}")
            self.host, self.port = match.group(1).strip("[]"), int(match.group(2))
            token_file = os.path.join(home, "server.token")
            try:
                with open(token_file) as f:
                    self.token = f.read().strip()
            except OSError as e:
                raise BenchError(f"cannot read the server's token: {e}") from e
            if not self.token:
                raise BenchError(f"{token_file} is empty")
        except BaseException:
            self.stop()
            raise

    def _wait_listening(self, seconds):
        deadline = time.monotonic() + seconds
        server_json = os.path.join(self.home, "server.json")
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"wharf server exited with status {self.process.returncode} before listening\n"
                                 f"{self.log_tail()}")
            match = re.search(r"listening on (http://\S+)", self.read_log())
            if match and os.path.exists(server_json):
                return match.group(1)
            time.sleep(0.02)
        raise BenchError(f"wharf server did not print 'listening on' within {seconds} s\n{self.log_tail()}")

    def read_log(self):
        self.log.flush()
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, chars=3000):
        return "--- server log (tail) ---\n" + self.read_log()[-chars:]

    def cpu(self):
        """(own utime+stime, reaped children's cutime+cstime) in seconds, from /proc/PID/stat."""
        try:
            with open(f"/proc/{self.process.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError as e:
            raise BenchError(f"cannot read the server's CPU times: {e}") from e
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])  # fields 14-17 of proc(5)
        return (utime + stime) / CLK_TCK, (cutime + cstime) / CLK_TCK

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                print("bench/tasks: wharf server ignored SIGTERM for 15 s; killing it", file=sys.stderr)
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode


class Reaper:
    """Makes this process a child subreaper, so the task supervisors that the server's launchers leave behind
    (detached, their own session) end up as our children; reaps them as they exit, which adds their CPU time and
    that of the commands they waited for to our RUSAGE_CHILDREN. The server itself is left to Popen."""

    PR_SET_CHILD_SUBREAPER = 36

    def __init__(self, server_pid):
        self.server_pid = server_pid
        self.reaped = 0
        self.ok = False
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            self.ok = libc.prctl(self.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
        except (OSError, AttributeError):
            pass
        self.done = threading.Event()
        if self.ok:
            threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while not self.done.is_set():
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOWAIT)
            except ChildProcessError:
                time.sleep(0.05)
                continue
            except InterruptedError:
                continue
            if info is None:
                continue
            if info.si_pid == self.server_pid:
                return  # the server ended: Popen.wait reaps it
            try:
                os.waitpid(info.si_pid, 0)
                self.reaped += 1
            except ChildProcessError:
                pass

    def wait_for(self, count, seconds):
        deadline = time.monotonic() + seconds
        while self.ok and self.reaped < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.reaped >= count

    @staticmethod
    def children_cpu():
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def stop(self):
        self.done.set()


class Client:
    """JSON over one keep-alive connection, reconnecting when the server closes it."""

    def __init__(self, server, timeout):
        self.server, self.timeout = server, timeout
        self.connection = None

    def _connect(self):
        self.connection = http.client.HTTPConnection(self.server.host, self.server.port, timeout=self.timeout)

    def request(self, method, path, body=None, expect=(200,)):
        headers = {"Authorization": f"Bearer {self.server.token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        # A GET is retried once on a dropped keep-alive connection; a POST is not (it could run twice).
        for attempt in (1, 2):
            if self.connection is None:
                self._connect()
            try:
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                payload = response.read()
                break
            except (http.client.HTTPException, ConnectionError, OSError) as e:
                self.connection.close()
                self.connection = None
                if self.server.process.poll() is not None:
                    raise BenchError(f"wharf server died (status {self.server.process.returncode}) during "
                                     f"{method} {path}\n{self.server.log_tail()}") from e
                if method != "GET" or attempt == 2:
                    raise BenchError(f"{method} {path}: {type(e).__name__}: {e}") from e
        if response.status not in expect:
            raise BenchError(f"{method} {path}: HTTP {response.status}: {payload[:500].decode(errors='replace')}")
        try:
            return json.loads(payload)
        except ValueError as e:
            raise BenchError(f"{method} {path}: not JSON: {payload[:200]!r}") from e

    def close(self):
        if self.connection is not None:
            self.connection.close()


# --- helpers ---------------------------------------------------------------------------------------------------


def parse_time(text):
    """RFC 3339 UTC with milliseconds ('2026-11-23T15:55:20.123Z') -> seconds since the epoch."""
    if text is None:
        raise BenchError("a task has no timestamp where one was expected")
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def percentile(values, p):
    """Nearest-rank percentile (p99 of 100 values is the 99th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary(values_s):
    ms = [v * 1e3 for v in values_s]
    return {"p50": statistics.median(ms), "p99": percentile(ms, 99), "max": max(ms), "n": len(ms)}


def machine_cpu():
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(x) for x in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # without guest time, which user time already counts
    return total - idle, total


def machine_busy_s(before, after):
    return (after[0] - before[0]) / CLK_TCK


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = re.search(r"model name\s*:\s*(.*)", f.read()).group(1)
    except (OSError, AttributeError):
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


# --- latency ---------------------------------------------------------------------------------------------------


def floor_latency(n):
    spawn, done = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        child = subprocess.Popen(COMMAND)
        t1 = time.perf_counter()
        if child.wait() != 0:
            raise BenchError(f"{COMMAND} exited with status {child.returncode}")
        t2 = time.perf_counter()
        spawn.append(t1 - t0)
        done.append(t2 - t0)
    return summary(spawn), summary(done)


def command_times(home, task):
    """(started, finished) of the command itself, in seconds since the epoch, from the supervisor's
    status.json in the server's run directory (HOME/runs/ID/ATTEMPT/); None if it cannot be read."""
    try:
        with open(os.path.join(home, "runs", task["id"], str(task["attempt"]), "status.json")) as f:
            status = json.load(f)
        return status["started_us"] / 1e6, status["finished_us"] / 1e6
    except (OSError, ValueError, KeyError, TypeError):
        return None


def submit_one(client, home, deadline_s):
    """One sequential submission: POST, then GET in a tight loop until it is not PENDING, then until it ends."""
    t0 = time.perf_counter()
    answer = client.request("POST", "/api/runs", {"taskdef": "true"}, expect=(201,))
    t_posted = time.perf_counter()
    try:
        task = answer["tasks"][0]
        task_id = task["id"]
    except (KeyError, IndexError, TypeError) as e:
        raise BenchError(f"POST /api/runs answered without a task: {answer}") from e
    t_running = t_posted if task["state"] != "PENDING" else None
    first_state = task["state"]
    deadline = t0 + deadline_s
    while task["state"] not in FINAL:
        if time.perf_counter() > deadline:
            raise BenchError(f"task {task_id} still {task['state']} after {deadline_s} s")
        task = client.request("GET", f"/api/tasks/{task_id}")
        if t_running is None and task["state"] != "PENDING":
            t_running, first_state = time.perf_counter(), task["state"]
    t_done, wall_done = time.perf_counter(), time.time()
    if task["state"] != "SUCCEEDED":
        raise BenchError(f"task {task_id} ended {task['state']}: {task.get('reason')}")
    created = parse_time(task["created_at"])
    sample = {
        "post": t_posted - t0,
        "running": t_running - t0,
        "done": t_done - t0,
        "server_started": parse_time(task["started_at"]) - created,
        "server_finished": parse_time(task["finished_at"]) - created,
        "first_state": first_state,
    }
    if times := command_times(home, task):
        sample["command_started"] = times[0] - created
        sample["noticed"] = wall_done - times[1]
    return sample


def wharf_latency(client, home, n, warmup, deadline_s):
    for _ in range(warmup):
        submit_one(client, home, deadline_s)
    samples = [submit_one(client, home, deadline_s) for _ in range(n)]
    result = {key: summary([s[key] for s in samples])
              for key in ("post", "running", "done", "server_started", "server_finished")}
    for key in ("command_started", "noticed"):
        values = [s[key] for s in samples if key in s]
        result[key] = summary(values) if len(values) == n else None
    result["seen_running"] = sum(s["first_state"] == "RUNNING" for s in samples)
    return result


# --- drain -----------------------------------------------------------------------------------------------------


def floor_drain(n, width):
    def one(_):
        return subprocess.run(COMMAND).returncode

    self0, machine0 = os.times(), machine_cpu()
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=width) as pool:
        failed = sum(code != 0 for code in pool.map(one, range(n)))
    wall = time.perf_counter() - t0
    self1, machine1 = os.times(), machine_cpu()
    if failed:
        raise BenchError(f"floor drain: {failed} of {n} runs of {COMMAND} failed")
    own = (self1.user + self1.system) - (self0.user + self0.system)
    children = (self1.children_user + self1.children_system) - (self0.children_user + self0.children_system)
    return {"wall": wall, "own_cpu": own, "all_cpu": own + children,
            "machine_busy": machine_busy_s(machine0, machine1)}


def wharf_drain(client, server, reaper, n, already, poll_s, timeout_s):
    # The supervisors of the earlier submissions must be counted before, not during, the drain.
    reaper.wait_for(already, 5)
    own0, launchers0 = server.cpu()
    supervisors0 = reaper.children_cpu()
    machine0 = machine_cpu()
    t0 = time.perf_counter()
    answer = client.request("POST", "/api/runs", {"taskdef": "true", "count": n}, expect=(201,))
    group = answer.get("group_id")
    if len(answer.get("tasks", [])) != n:
        raise BenchError(f"POST /api/runs with count {n} answered {len(answer.get('tasks', []))} tasks")
    while True:
        time.sleep(poll_s)
        if not client.request("GET", "/api/tasks?state=PENDING,RUNNING&limit=1")["tasks"]:
            break
        if time.perf_counter() - t0 > timeout_s:
            left = len(client.request("GET", "/api/tasks?state=PENDING,RUNNING&limit=0")["tasks"])
            raise BenchError(f"drain: {left} of {n} tasks still PENDING or RUNNING after {timeout_s} s")
    wall = time.perf_counter() - t0
    own1, launchers1 = server.cpu()
    machine1 = machine_cpu()
    # A supervisor exits just after its status.json (and so SUCCEEDED): give the last ones a moment.
    all_reaped = reaper.wait_for(already + n, 10)
    supervisors1 = reaper.children_cpu()

    tasks = client.request("GET", f"/api/tasks?group={group}&limit=0")["tasks"]
    states = {}
    for task in tasks:
        states[task["state"]] = states.get(task["state"], 0) + 1
    if len(tasks) != n or states.get("SUCCEEDED") != n:
        bad = next((t for t in tasks if t["state"] != "SUCCEEDED"), None)
        raise BenchError(f"drain: expected {n} SUCCEEDED tasks in group {group}, found {states}"
                         + (f"; e.g. {bad['id']}: {bad.get('reason')}" if bad else ""))
    created = min(parse_time(t["created_at"]) for t in tasks)
    finished = max(parse_time(t["finished_at"]) for t in tasks)
    claims = sorted(parse_time(t["started_at"]) for t in tasks)
    own = own1 - own0
    result = {"wall": wall, "span": finished - created, "own_cpu": own, "launchers_cpu": launchers1 - launchers0,
              "machine_busy": machine_busy_s(machine0, machine1),
              "running": summary([parse_time(t["finished_at"]) - parse_time(t["started_at"]) for t in tasks]),
              "claim_gap": summary([b - a for a, b in zip(claims, claims[1:])]) if n > 1 else None,
              "all_cpu": None}
    if reaper.ok and all_reaped:
        result["supervisors_cpu"] = supervisors1 - supervisors0
        result["all_cpu"] = own + result["launchers_cpu"] + result["supervisors_cpu"]
    return result


# --- main ------------------------------------------------------------------------------------------------------


def ratio(value, base):
    return f"{value / base:.1f}x" if base > 0 else "n/a"


def print_report(args, lat, floor_spawn, floor_done, drain, floor, background, load):
    cap = args.cpus
    width = max(1, int(args.cpus / args.task_cpus))
    print(f"wharf server --cpus {cap:g}, {' '.join(COMMAND)} with resources.cpus {args.task_cpus:g} "
          f"({width} at a time); {machine()}; load average {load} at start; {time.strftime('%Y-%m-%d')}\n")

    print(f"| submit → state (sequential, n={lat['running']['n']}, after {args.warmup} warm-up) "
          f"| p50 ms | p99 ms | max ms | p50 / floor p50 |")
    print("|---|---|---|---|---|")
    rows = [
        ("floor: subprocess.Popen(/bin/true) returns (spawned)", floor_spawn, floor_spawn),
        ("floor: Popen + wait (/bin/true has exited)", floor_done, floor_done),
        ("wharf: POST /api/runs answered (201, task PENDING)", lat["post"], floor_spawn),
        ("**wharf: POST → GET /api/tasks/ID sees it not PENDING (client)**", lat["running"], floor_spawn),
        ("wharf: started_at − created_at (server, ms resolution)", lat["server_started"], floor_spawn),
        ("wharf: /bin/true started (supervisor's status.json) − created_at", lat["command_started"], floor_spawn),
        ("wharf: POST → GET sees SUCCEEDED (client)", lat["done"], floor_done),
        ("wharf: finished_at (/bin/true's exit) − created_at (server)", lat["server_finished"], floor_done),
        ("wharf: /bin/true's exit → GET sees SUCCEEDED (client clock − status.json)", lat["noticed"], None),
    ]
    for title, s, base in rows:
        if s is None:
            continue
        print(f"| {title} | {s['p50']:.2f} | {s['p99']:.2f} | {s['max']:.2f} | "
              f"{ratio(s['p50'], base['p50']) if base else ''} |")

    print()
    print(f"| drain of {args.drain} × /bin/true, {width} at a time | wall s | tasks/s | wall / floor "
          f"| dispatcher CPU s | dispatcher share of {cap:g} cores | all CPU of the run s | all CPU ms/task |")
    print("|---|---|---|---|---|---|---|---|")
    for title, d in ((f"floor: Python ThreadPoolExecutor({width}) × subprocess.run", floor),
                     (f"wharf server: one run, count {args.drain}", drain)):
        all_cpu = d["all_cpu"]
        print(f"| {title} | {d['wall']:.2f} | {args.drain / d['wall']:.0f} | {ratio(d['wall'], floor['wall'])} | "
              f"{d['own_cpu']:.2f} | {d['own_cpu'] / (d['wall'] * cap):.0%} | "
              f"{'n/a' if all_cpu is None else f'{all_cpu:.2f}'} | "
              f"{'n/a' if all_cpu is None else f'{all_cpu / args.drain * 1e3:.1f}'} |")

    print()
    print("- dispatcher: the Python process (floor) or the server process alone (utime+stime from /proc/PID/stat). "
          "All CPU: the dispatcher plus every process it started, reaped; for wharf the server, its task "
          "launchers, the detached supervisors and /bin/true.")
    if drain["all_cpu"] is not None:
        print(f"- wharf's {drain['all_cpu']:.2f} CPU s: server {drain['own_cpu']:.2f}, launchers "
              f"{drain['launchers_cpu']:.2f}, supervisors + /bin/true {drain['supervisors_cpu']:.2f}.")
    print(f"- drain on the server's clock (first created_at → last finished_at): {drain['span']:.2f} s "
          f"({args.drain / drain['span']:.0f} tasks/s; the client polls every {args.poll * 1e3:.0f} ms); "
          f"time RUNNING per task (finished_at − started_at) p50 {drain['running']['p50']:.0f} ms, "
          f"p99 {drain['running']['p99']:.0f} ms"
          + (f"; gap between consecutive started_at p50 {drain['claim_gap']['p50']:.0f} ms"
             if drain["claim_gap"] else "") + ".")
    print(f"- machine-wide busy CPU during the wharf drain (/proc/stat, everyone's): {drain['machine_busy']:.2f} s; "
          f"background just before it: {background:.0%} of {os.cpu_count()} cores.")
    print(f"- first state the client saw after PENDING: RUNNING in {lat['seen_running']} of {lat['running']['n']} "
          f"submissions (else already SUCCEEDED).")
    met = lat["running"]["p50"] <= LATENCY_GOAL_MS and lat["running"]["p99"] <= LATENCY_GOAL_MS
    print(f"- goal submit → RUNNING ≤ {LATENCY_GOAL_MS:.0f} ms (client, p50 and p99): "
          f"{'met' if met else 'MISSED'} (p50 {lat['running']['p50']:.1f} ms, p99 {lat['running']['p99']:.1f} ms).")
    share = drain["own_cpu"] / (drain["wall"] * cap)
    print(f"- goal the server's own CPU does not dominate the drain (< {CPU_GOAL_SHARE:.0%} of {cap:g} cores): "
          f"{'met' if share < CPU_GOAL_SHARE else 'MISSED'} ({share:.0%}).")


def main():
    parser = argparse.ArgumentParser(description="bench/tasks: wharf server submit latency and queue drain")
    parser.add_argument("--submissions", type=int, default=100, help="sequential submissions timed")
    parser.add_argument("--warmup", type=int, default=3, help="untimed submissions first")
    parser.add_argument("--drain", type=int, default=1000, help="tasks in the drained run (at most 10000)")
    parser.add_argument("--cpus", type=float, default=2, help="the server's --cpus")
    parser.add_argument("--task-cpus", type=float, default=0.5, help="resources.cpus of each task")
    parser.add_argument("--poll", type=float, default=0.1, help="seconds between drain polls")
    parser.add_argument("--timeout", type=float, default=600, help="seconds the drain may take")
    parser.add_argument("--http-timeout", type=float, default=30, help="seconds per HTTP request")
    parser.add_argument("--keep", action="store_true", help="keep the server's home (printed on stderr)")
    args = parser.parse_args()
    if args.submissions < 1 or args.drain < 1 or args.drain > 10000 or args.task_cpus <= 0 or args.cpus <= 0:
        parser.error("need --submissions >= 1, 1 <= --drain <= 10000, --cpus > 0, --task-cpus > 0")
    if not os.access(WHARF, os.X_OK):
        sys.exit(f"bench/tasks: {WHARF} is not built (cmake --build build -j2 --target wharf)")
    width = max(1, int(args.cpus / args.task_cpus))

    # Turn SIGTERM into an exception so the finally blocks stop the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load = loadavg()
    home = tempfile.mkdtemp(prefix="wharf-bench-tasks-")
    server = client = reaper = None
    try:
        print(f"[floor] {args.submissions} × Popen({COMMAND[0]}) ...", file=sys.stderr, flush=True)
        floor_spawn, floor_done = floor_latency(args.submissions)
        print(f"[floor] {args.drain} × subprocess.run, {width} threads ...", file=sys.stderr, flush=True)
        floor = floor_drain(args.drain, width)

        server = Server(home, args.cpus, start_timeout=30)
        print(f"[wharf] server at {server.url}, home {home}", file=sys.stderr, flush=True)
        reaper = Reaper(server.process.pid)
        if not reaper.ok:
            print("bench/tasks: cannot become a child subreaper; the all-CPU column is n/a", file=sys.stderr)
        client = Client(server, args.http_timeout)
        if client.request("GET", "/api/health").get("status") != "ok":
            raise BenchError("GET /api/health did not answer status ok")
        client.request("POST", "/api/taskdefs",
                       {"name": "true", "command": COMMAND, "resources": {"cpus": args.task_cpus}},
                       expect=(200, 201))

        print(f"[wharf] {args.submissions} sequential submissions ...", file=sys.stderr, flush=True)
        lat = wharf_latency(client, home, args.submissions, args.warmup, deadline_s=min(60.0, args.timeout))

        window = 2.0  # seconds of the machine's background load, measured before the drain
        before = machine_cpu()
        time.sleep(window)
        background = machine_busy_s(before, machine_cpu()) / (window * os.cpu_count())
        print(f"[wharf] drain of {args.drain} ...", file=sys.stderr, flush=True)
        drain = wharf_drain(client, server, reaper, args.drain, args.warmup + args.submissions, args.poll,
                            args.timeout)
        print_report(args, lat, floor_spawn, floor_done, drain, floor, background, load)
    except BenchError as e:
        print(f"bench/tasks: {e}", file=sys.stderr)
        return 1
    finally:
        if client is not None:
            client.close()
        if server is not None:
            code = server.stop()
            if reaper is not None:
                reaper.stop()
            if code not in (0, -signal.SIGTERM):
                print(f"bench/tasks: wharf server exited with status {code} on SIGTERM\n{server.log_tail()}",
                      file=sys.stderr)
        if args.keep:
            print(f"bench/tasks: kept {home}", file=sys.stderr)
        else:
            shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
