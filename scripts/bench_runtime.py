"""A local Lambda Runtime API that starts function binaries and times them.

Used by scripts/bench-functions (which builds the binaries, starts the AWS emulator and the
vendor sandbox, and seeds tables); not meant to be run by hand. For each start of a binary it
serves `GET /2018-06-01/runtime/invocation/next` with a recorded API Gateway event (twice: the
first, "cold" invocation and a warm one), accepts `POST .../response`, and measures:

- init: from just before the process is spawned until its first `GET .../next`
  (what Lambda reports as Init Duration: runtime start-up plus everything main does first);
- first / warm invocation: from the event's last byte sent until the response arrives;
- peak RSS: VmHWM from /proc/<pid>/status, read when the process asks for a third event
  (so it covers start-up and both invocations).

Each binary is started several times, interleaved with the others so that load from other
work on the machine spreads over all of them, and the median of each figure is reported.
"""

import argparse
import http.server
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
import zipfile

API = "/2018-06-01/runtime"


class Run:
    """The state of one start of one binary."""

    def __init__(self, events):
        self.events = events  # raw JSON bytes, one per invocation
        self.lock = threading.Lock()
        self.pid = None
        self.spawned = None
        self.first_next = None
        self.sent = {}  # request id -> (index, time the event was sent)
        self.durations = [None] * len(events)
        self.statuses = [None] * len(events)
        self.errors = []
        self.served = 0
        self.peak_rss_kb = None
        self.done = threading.Event()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    run = None  # set per start by the driver

    def log_message(self, *args):
        pass

    def _reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self):
        run = Handler.run
        if self.path != f"{API}/invocation/next" or run is None:
            return self._reply(404)
        now = time.perf_counter()
        with run.lock:
            if run.first_next is None:
                run.first_next = now
            index = run.served
            run.served += 1
        if index >= len(run.events):
            # Every event answered: the process is idle in its next poll, as between requests.
            run.peak_rss_kb = peak_rss_kb(run.pid)
            run.done.set()
            # Hold the poll open until the driver stops the process.
            time.sleep(30)
            return
        request_id = str(uuid.uuid4())
        deadline_ms = int(time.time() * 1000) + 30_000
        headers = [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", request_id),
            ("Lambda-Runtime-Deadline-Ms", str(deadline_ms)),
            (
                "Lambda-Runtime-Invoked-Function-Arn",
                "arn:aws:lambda:eu-north-1:123456789012:function:bench",
            ),
            ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0"),
        ]
        body = run.events[index]
        self._reply(200, body, headers)
        with run.lock:
            run.sent[request_id] = (index, time.perf_counter())

    def do_POST(self):
        run = Handler.run
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        now = time.perf_counter()
        parts = self.path.split("/")
        # /2018-06-01/runtime/invocation/<id>/(response|error) or /runtime/init/error
        if self.path.startswith(f"{API}/invocation/") and len(parts) == 6:
            request_id, kind = parts[4], parts[5]
            with run.lock:
                index, sent = run.sent.get(request_id, (None, None))
            if index is not None:
                run.durations[index] = (now - sent) * 1000
                if kind == "response":
                    try:
                        run.statuses[index] = json.loads(body).get("statusCode")
                    except (ValueError, AttributeError):
                        run.statuses[index] = "?"
                else:
                    run.statuses[index] = "error"
                    run.errors.append(body.decode(errors="replace")[:500])
            return self._reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])
        if self.path == f"{API}/init/error":
            run.errors.append("init error: " + body.decode(errors="replace")[:500])
            run.done.set()
            return self._reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])
        return self._reply(404)


def peak_rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def start_once(binary, events, env, log):
    """One cold start of `binary` with the events; returns its Run."""
    run = Run(events)
    Handler.run = run
    with open(log, "ab") as out:
        run.spawned = time.perf_counter()
        proc = subprocess.Popen([binary], env=env, stdout=out, stderr=out)
        run.pid = proc.pid
        finished = run.done.wait(timeout=60)
        proc.kill()
        proc.wait()
    if not finished:
        run.errors.append("timed out")
    Handler.run = None
    return run


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def load_events(path):
    """The recorded event, and the same again for the warm invocation. A save is not
    idempotent: the warm one edits the version the first one produced."""
    with open(path) as f:
        event = json.load(f)
    warm = json.loads(json.dumps(event))
    try:
        body = json.loads(warm.get("body") or "null")
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("version"), int):
        body["version"] += 1
        warm["body"] = json.dumps(body)
    return [json.dumps(event).encode(), json.dumps(warm).encode()]


PASSED_ENV = ("ADMIN_APP_URL", "AWS_", "MAIL_SENDER", "METRICS_", "VENDOR_SANDBOX_URL", "RUST_LOG", "SES_", "SSL_CERT_")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--devtool", required=True)
    parser.add_argument("--log", required=True, help="the functions' output goes here")
    parser.add_argument("--out", required=True, help="results as JSON")
    parser.add_argument(
        "--fn",
        nargs=4,
        action="append",
        required=True,
        metavar=("NAME", "BINARY", "EVENT", "ZIP"),
        help="the first one is the baseline",
    )
    args = parser.parse_args()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]

    base_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
    }
    base_env.update({k: v for k, v in os.environ.items() if k.startswith(PASSED_ENV)})
    functions = [
        {"name": n, "binary": b, "event": e, "zip": z, "events": load_events(e)}
        for n, b, e, z in args.fn
    ]
    runs = {f["name"]: [] for f in functions}
    for i in range(args.runs):
        for function in functions:
            # A fresh table with the demo data for every start, so every start does the same
            # work (lockout slots, versions, secrets start from scratch).
            env = {**base_env, **fresh_table(args.devtool)}
            run = start_once(function["binary"], function["events"], env, args.log)
            runs[function["name"]].append(run)
            if run.errors:
                print(f"  {function['name']} start {i + 1}: {run.errors}", file=sys.stderr)
        print(f"  start {i + 1}/{args.runs} of every binary done", file=sys.stderr)

    results = []
    for function in functions:
        ok = [r for r in runs[function["name"]] if not r.errors and r.first_next is not None]
        zip_path = function["zip"]
        results.append(
            {
                "name": function["name"],
                "event": os.path.basename(function["event"]),
                "starts": len(ok),
                "init_ms": median([(r.first_next - r.spawned) * 1000 for r in ok]),
                "first_ms": median([r.durations[0] for r in ok]),
                "warm_ms": median([r.durations[-1] for r in ok]),
                "peak_rss_mb": median(
                    [r.peak_rss_kb / 1024 for r in ok if r.peak_rss_kb is not None]
                ),
                "statuses": sorted({str(s) for r in ok for s in r.statuses}),
                "binary_mb": os.path.getsize(function["binary"]) / 1_000_000,
                "zip_mb": os.path.getsize(zip_path) / 1_000_000
                if os.path.exists(zip_path)
                else None,
            }
        )
    server.shutdown()
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
    print(table(results))


# The cold-start targets docs/performance.md states.
INIT_RATIO_MAX = 1.5
ZIP_MB_MAX = 4.0
RSS_MB_MAX = 24.0


def table(results):
    base = results[0]

    def ratio(value, of):
        return f"{value / of:.2f}×" if value is not None and of else "–"

    def fmt(value, digits=1):
        return "–" if value is None else f"{value:.{digits}f}"

    lines = [
        "| Binary (event) | Init ms | × base | 1st inv. ms | Warm inv. ms "
        "| Peak RSS MB | × base | Binary MB | Zip MB | × base | Status | Targets |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        misses = []
        if r is not base:
            if r["init_ms"] is None or r["init_ms"] > INIT_RATIO_MAX * base["init_ms"]:
                misses.append("init")
            if r["zip_mb"] is None or r["zip_mb"] > ZIP_MB_MAX:
                misses.append("zip")
            if r["peak_rss_mb"] is None or r["peak_rss_mb"] > RSS_MB_MAX:
                misses.append("rss")
            if r["starts"] == 0:
                misses.append("no clean start")
        verdict = "baseline" if r is base else ("met" if not misses else "missed: " + ", ".join(misses))
        lines.append(
            f"| {r['name']} ({r['event']}) | {fmt(r['init_ms'])} | {ratio(r['init_ms'], base['init_ms'])} "
            f"| {fmt(r['first_ms'])} | {fmt(r['warm_ms'])} "
            f"| {fmt(r['peak_rss_mb'])} | {ratio(r['peak_rss_mb'], base['peak_rss_mb'])} "
            f"| {fmt(r['binary_mb'], 2)} | {fmt(r['zip_mb'], 2)} | {ratio(r['zip_mb'], base['zip_mb'])} "
            f"| {'/'.join(r['statuses']) or '–'} | {verdict} |"
        )
    return "\n".join(lines)


def fresh_table(devtool):
    """A new table with the demo data."""
    table = f"bench-{uuid.uuid4().hex[:12]}"
    for command in ("create-table", "seed-demo"):
        subprocess.run(
            [devtool, command, table],
            check=True,
            stdout=subprocess.DEVNULL,
            env={**os.environ},
        )
    # Unique secret names too: the first save of a location creates its secret.
    return {"TABLE_NAME": table, "SECRET_NAME_PREFIX": f"bench/{table}/"}


if __name__ == "__main__":
    main()
