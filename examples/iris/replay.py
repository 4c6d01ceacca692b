#!/usr/bin/env python3
"""Replays the recorded iris requests against a server's classic routes.

POSTs every requests/request_*.json to URL/run/ and checks the answer is 200
with "output" one of the three species; then GETs URL/output/<id>/ for each
and checks its "output" is what /run/ returned (the class name, as the classic
app stores it, or the whole /run/ answer). Prints a summary and exits 1 if any
check failed. Standard library only; one keep-alive connection.

    examples/iris/replay.py [--url http://127.0.0.1:8080] [--requests DIR] [--id-offset N]

The classic app refuses a request whose (id, request_time) it has stored: a
second replay against its database needs --id-offset.
"""
import argparse
import http.client
import json
import pathlib
import sys
import time
import urllib.parse

SPECIES = {"setosa", "versicolor", "virginica"}


class Client:
    """One keep-alive HTTP connection that reconnects when the server closes it."""

    def __init__(self, url):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.connection = None

    def request(self, method, path, body=None):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.connection.request(method, self.prefix + path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                if response.will_close:
                    self.close()
                return response.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()  # an idle keep-alive connection the server dropped: retry once on a new one
                if attempt == 2:
                    raise

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def load_requests(directory, id_offset):
    paths = sorted(pathlib.Path(directory).glob("request_*.json"), key=lambda p: int(p.stem.split("_")[1]))
    bodies = []
    for path in paths:
        body = json.loads(path.read_text())
        body["id"] += id_offset
        bodies.append(body)
    return bodies


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--requests", default=pathlib.Path(__file__).resolve().parent / "requests")
    parser.add_argument("--id-offset", type=int, default=0, help="added to every request id")
    args = parser.parse_args()

    bodies = load_requests(args.requests, args.id_offset)
    if not bodies:
        sys.exit(f"replay: no request_*.json in {args.requests}")
    client = Client(args.url)
    failures, outputs = [], {}

    start = time.perf_counter()
    for body in bodies:
        try:
            status, data = client.request("POST", "/run/", json.dumps(body))
            output = json.loads(data).get("output") if status == 200 else None
        except (OSError, http.client.HTTPException, ValueError) as e:
            status, data, output = None, repr(e).encode(), None
        if status == 200 and output in SPECIES:
            outputs[body["id"]] = (output, json.loads(data))
        else:
            failures.append(f"POST /run/ id {body['id']}: status {status}, body {data[:200]!r}")
    run_seconds = time.perf_counter() - start

    for request_id, (output, answer) in outputs.items():
        try:
            status, data = client.request("GET", f"/output/{request_id}/")
            stored = json.loads(data).get("output") if status == 200 else None
        except (OSError, http.client.HTTPException, ValueError) as e:
            status, data, stored = None, repr(e).encode(), None
        # The classic app stores the class name; a server may store the whole /run/ answer instead.
        if stored != output and stored != answer:
            failures.append(f"GET /output/{request_id}/: status {status}, body {data[:200]!r}; /run/ said {output!r}")
    client.close()

    counts = {name: sum(1 for o, _ in outputs.values() if o == name) for name in sorted(SPECIES)}
    for failure in failures[:20]:
        print("FAILED", failure)
    if len(failures) > 20:
        print(f"... and {len(failures) - 20} more failures")
    print(f"{len(bodies)} requests to {args.url}/run/: {len(outputs)} ok, {len(bodies) - len(outputs)} failed, "
          f"{len(bodies) / run_seconds:.0f} req/s (one connection, sequential); "
          f"/output/<id>/ checks failed: {len(failures) - (len(bodies) - len(outputs))}; "
          + ", ".join(f"{name} {n}" for name, n in counts.items()))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
