"""GET /metrics on a real gunicorn with two workers: authorised, and counting every worker."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prometheus_client.mmap_dict import MmapedDict

from tests.support.faults import refused_port

TOKEN = "metrics-token-for-tests-5e2c"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in the Prometheus text format, or None if absent."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = re.match(r"^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
        if found == labels:
            return float(match.group(4))
    return None


def root_requests_by_process(metrics_dir: Path) -> dict[int, float]:
    """GET / counted in each worker's own file (prometheus_client's storage, read directly)."""
    counts = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = int(re.search(r"_(\d+)\.db$", path.name).group(1))
        counts[pid] = 0.0
        for key, value, *_ in MmapedDict.read_all_values_from_file(str(path)):
            _metric, name, labels, *_ = json.loads(key)
            if name == "infinityai_http_requests_total" and labels.get("view") == "root":
                counts[pid] += value
    return counts


def scrape(server) -> str:
    reply = server.get("/metrics", headers=AUTH)
    assert reply.status == 200, reply.body
    assert reply.header("Content-Type").startswith("text/plain")
    return reply.body.decode()


def test_metrics_404_without_a_configured_token(serve, sqlite_env) -> None:
    server = serve(**sqlite_env)
    reply = server.get("/metrics", headers=AUTH)
    assert reply.status == 404
    assert reply.json() == {"detail": "Not Found"}


def test_metrics_401_without_the_right_token(serve, sqlite_env) -> None:
    server = serve(METRICS_TOKEN=TOKEN, **sqlite_env)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
                    {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": "Bearer"}):
        reply = server.get("/metrics", headers=headers)
        assert reply.status == 401, headers
        assert reply.header("WWW-Authenticate").startswith("Bearer")
        assert reply.json() == {"detail": "A valid metrics token is required."}
    assert server.get("/api/metrics", headers={"Authorization": f"bearer {TOKEN}"}).status == 200


def test_counts_are_right_across_two_workers(serve, sqlite_env, tmp_path: Path) -> None:
    """N requests spread over both workers: /metrics reports N, whichever worker answers;
    a worker killed and replaced keeps its counts; a restart starts from zero."""
    metrics_dir = tmp_path / "metrics"
    env = {"METRICS_TOKEN": TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "GUNICORN_THREADS": "2",
           **sqlite_env}
    server = serve(workers=2, **env)
    # Which worker accepts a connection is the kernel's choice: send batches until the
    # workers' own files show that both have answered some (bounded), then check the sum.
    n, per_worker = 0, {}
    with ThreadPoolExecutor(8) as pool:
        for _ in range(20):
            statuses = list(pool.map(lambda _: server.get("/").status, range(30)))
            assert statuses == [200] * 30
            n += 30
            per_worker = root_requests_by_process(metrics_dir)
            if len([count for count in per_worker.values() if count]) >= 2:
                break
    assert len([count for count in per_worker.values() if count]) >= 2, per_worker
    assert sum(per_worker.values()) == n
    for _ in range(4):  # every scrape, whichever worker takes it, sees all of them
        assert sample(scrape(server), "infinityai_http_requests_total", view="root", method="GET",
                      status="200") == n

    victim = server.worker_pids()[0]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and (victim in server.worker_pids() or len(server.worker_pids()) < 2):
        time.sleep(0.1)
    assert sample(scrape(server), "infinityai_http_requests_total", view="root", method="GET", status="200") == n
    histogram = sample(scrape(server), "infinityai_http_request_duration_seconds_count", view="root")
    assert histogram == n

    server.stop()
    again = serve(workers=2, **env)
    assert sample(scrape(again), "infinityai_http_requests_total", view="root", method="GET", status="200") is None


def test_database_gauge_and_health_check_duration(serve, sqlite_env) -> None:
    """The database state as /health last reported it, and how long the check took."""
    good = serve(METRICS_TOKEN=TOKEN, **sqlite_env)
    assert good.get("/health").json()["database"] == "connected"
    text = scrape(good)
    assert sample(text, "infinityai_database_up") == 1
    assert sample(text, "infinityai_health_check_duration_seconds_count", state="connected") == 1

    bad = serve(METRICS_TOKEN=TOKEN, DB_HOST="127.0.0.1", DB_PORT=str(refused_port()), DB_SSL_DISABLED="true")
    assert bad.get("/health").json()["database"] == "error"
    text = scrape(bad)
    assert sample(text, "infinityai_database_up") == 0
    assert sample(text, "infinityai_health_check_duration_seconds_count", state="error") == 1
    for outcome in ("success", "failure", "fallback", "throttled", "unavailable"):
        assert sample(text, "infinityai_login_attempts_total", outcome=outcome) == 0


def test_made_up_methods_share_one_series(serve, sqlite_env) -> None:
    """A client can send any method name gunicorn accepts: each one must not become a
    series of its own (without bound), but all of them are counted, as "other"."""
    server = serve(METRICS_TOKEN=TOKEN, **sqlite_env)
    made_up = [f"BOGUS{n}" for n in range(5)]
    statuses = [server.request(method, "/").status for method in made_up]
    assert statuses == [405] * 5
    text = scrape(server)
    assert sample(text, "infinityai_http_requests_total", view="root", method="other", status="405") == 5
    assert not any("BOGUS" in line for line in text.splitlines())
