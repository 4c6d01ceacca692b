"""The classic Flask model app, reimplemented as bench/serve's peer.

An sklearn SVC (gamma=0.001, C=100) trained on sklearn's iris, served over
HTTP; each POST /run/ stores its inputs and output in per-model-version SQLite
tables (`inputs_<version>`, `outputs_<version>`) before it answers, as the
classic app does. The model is trained once at start and kept in memory (the
fairest version of the app: no reload per request).

Routes:
    GET  /                alive
    GET  /version/        model and code version
    GET  /endpoints/      the routes
    POST /run/            {"id", "request_time", "inputs": {sepal_length, sepal_width,
                          pental_length, pental_width}} -> {"id", "output", ...}
    GET  /output/<id>/    the stored output of request <id> (404 if none)

Run with /usr/bin/python3 (Debian's python3-flask and python3-sklearn):
    Flask's dev server:  classic_app.py [--host H] [--port P] [--db PATH|:memory:] [--no-capture]
    gunicorn:            gunicorn -w 2 -b 127.0.0.1:P --chdir bench/peers 'classic_app:create_app()'
                         options from CLASSIC_DB and CLASSIC_CAPTURE=0, or create_app(db=..., capture=False)

Storage: a file database is opened once per thread (Flask's dev server runs a
thread per request; each gunicorn worker is its own process, so its own
connections), in WAL mode so workers can write side by side. `:memory:` is one
database per process (per gunicorn worker), so /output/<id>/ only finds the
requests that this process served.
"""
import argparse
import datetime
import os
import sqlite3
import tempfile
import threading

from flask import Flask, jsonify, request

MODEL_VERSION = "1"
CODE_VERSION = "classic-1.0"
FEATURES = ("sepal_length", "sepal_width", "pental_length", "pental_width")
DEFAULT_DB = os.path.join(tempfile.gettempdir(), "classic_app.db")


def train_model():
    from sklearn import datasets, svm

    iris = datasets.load_iris()
    model = svm.SVC(gamma=0.001, C=100.)
    model.fit(iris.data, iris.target)
    return model, list(iris.target_names)


def schema(version):
    return f"""
        CREATE TABLE IF NOT EXISTS inputs_{version} (
            run_id INTEGER PRIMARY KEY AUTOINCREMENT,
            id INTEGER NOT NULL,
            request_time TEXT NOT NULL,
            sepal_length REAL, sepal_width REAL, pental_length REAL, pental_width REAL,
            UNIQUE (id, request_time));
        CREATE TABLE IF NOT EXISTS outputs_{version} (
            run_id INTEGER PRIMARY KEY REFERENCES inputs_{version}(run_id),
            id INTEGER NOT NULL,
            finished_at TEXT NOT NULL,
            output TEXT NOT NULL,
            code_version TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS outputs_{version}_id ON outputs_{version}(id);
    """


class Store:
    """Inputs and outputs of served requests. Thread-safe: a file database gets a
    connection per thread; an in-memory one is a single connection behind a lock."""

    def __init__(self, path, version):
        self.version = version
        self.memory = path == ":memory:"
        self.path = path
        self.local = threading.local()
        self.lock = threading.Lock()
        self.shared = None
        if self.memory:
            self.shared = sqlite3.connect(":memory:", check_same_thread=False)
            self.shared.executescript(schema(version))
        else:
            with sqlite3.connect(path, timeout=30) as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(schema(version))
            db.close()

    def _run(self, work):
        if self.memory:
            with self.lock:
                return work(self.shared)
        db = getattr(self.local, "db", None)
        if db is None:
            db = self.local.db = sqlite3.connect(self.path, timeout=30)
        return work(db)

    def insert_input(self, request_id, request_time, values):
        def work(db):
            with db:
                return db.execute(
                    f"INSERT INTO inputs_{self.version} (id, request_time, sepal_length, sepal_width,"
                    " pental_length, pental_width) VALUES (?, ?, ?, ?, ?, ?)",
                    (request_id, request_time, *values)).lastrowid
        return self._run(work)

    def insert_output(self, run_id, request_id, output):
        def work(db):
            with db:
                db.execute(f"INSERT INTO outputs_{self.version} (run_id, id, finished_at, output, code_version)"
                           " VALUES (?, ?, ?, ?, ?)",
                           (run_id, request_id, datetime.datetime.now().isoformat(sep=" "), output,
                            CODE_VERSION))
        self._run(work)

    def output(self, request_id):
        def work(db):
            return db.execute(f"SELECT output, finished_at, code_version FROM outputs_{self.version}"
                              " WHERE id = ? ORDER BY run_id DESC LIMIT 1", (request_id,)).fetchone()
        return self._run(work)


def create_app(db=None, capture=None):
    db = db or os.environ.get("CLASSIC_DB", DEFAULT_DB)
    if capture is None:
        capture = os.environ.get("CLASSIC_CAPTURE", "1") not in ("0", "off", "false")
    model, classes = train_model()
    store = Store(db, MODEL_VERSION) if capture else None
    app = Flask(__name__)

    @app.get("/")
    def alive():
        return "Model server is alive\n"

    @app.get("/version/")
    def version():
        return jsonify(model_version=MODEL_VERSION, code_version=CODE_VERSION)

    @app.get("/endpoints/")
    def endpoints():
        return jsonify(endpoints=sorted(str(rule) for rule in app.url_map.iter_rules() if rule.endpoint != "static"))

    @app.post("/run/")
    def run():
        body = request.get_json(force=True, silent=True)
        try:
            request_id, request_time = int(body["id"]), str(body["request_time"])
            values = [float(body["inputs"][name]) for name in FEATURES]
        except (TypeError, KeyError, ValueError) as e:
            return jsonify(error=f"bad request body: {e!r}; expected id, request_time and inputs "
                                 f"{{{', '.join(FEATURES)}}}"), 400
        run_id = None
        if store:
            try:
                run_id = store.insert_input(request_id, request_time, values)
            except sqlite3.IntegrityError:
                return jsonify(error=f"request id {request_id} at {request_time} was already run"), 409
        output = classes[int(model.predict([values])[0])]
        if store:
            store.insert_output(run_id, request_id, output)
        return jsonify(id=request_id, output=output, model_version=MODEL_VERSION)

    @app.get("/output/<int:request_id>/")
    def stored_output(request_id):
        row = store.output(request_id) if store else None
        if row is None:
            return jsonify(error=f"no stored output for request id {request_id}"), 404
        return jsonify(id=request_id, output=row[0], finished_at=row[1], code_version=row[2],
                       model_version=MODEL_VERSION)

    return app


def main():
    parser = argparse.ArgumentParser(description="The classic Flask iris model app (Flask's dev server).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--db", default=DEFAULT_DB, help="SQLite file, or :memory: (default %(default)s)")
    parser.add_argument("--no-capture", action="store_true", help="do not store inputs and outputs")
    args = parser.parse_args()
    create_app(db=args.db, capture=not args.no_capture).run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
