"""gunicorn settings, read from the same declared configuration as Django.

Loading the configuration here makes a bad setting stop gunicorn's master with
one clear message, before any worker boots and crash-loops.
"""

from infinityai import gunicorn_worker, instance_cache, metrics_dir
from infinityai.config import load_or_exit
from infinityai.logs import logging_config

settings = load_or_exit()  # not `config`: gunicorn reads that name as its own setting

bind = f"0.0.0.0:{settings.port}"
workers = settings.WEB_CONCURRENCY
# Threads let a worker keep answering /ready and ordinary requests while one
# thread waits on a slow database. gthread, with JSON error pages and a read
# timeout per client (infinityai/gunicorn_worker.py).
worker_class = "infinityai.gunicorn_worker.JsonErrorWorker"
gunicorn_worker.configure(read_timeout=settings.GUNICORN_CLIENT_TIMEOUT)
threads = settings.GUNICORN_THREADS
# Longer than any database wait (connect + read), so a worker stuck behind a hung
# database is not killed in the middle of a request that would still finish.
timeout = settings.GUNICORN_TIMEOUT
graceful_timeout = 30
keepalive = 5
wsgi_app = "infinityai.wsgi:application"
forwarded_allow_ips = "*"
# gunicorn 25.1+ opens a control socket (for `gunicornc`) at $XDG_RUNTIME_DIR/gunicorn.ctl
# or $HOME/.gunicorn/gunicorn.ctl: one path shared by every server one user runs (tests,
# `make run`, containers with the same HOME), so they would take it from each other. The
# service is managed by signals and the platform, never through it.
control_socket_disable = True

# --- Logs: gunicorn's own lines in the service's format (infinityai/logs.py) --------
accesslog = "-"
errorlog = "-"
loglevel = settings.LOG_LEVEL.lower()
# The path without its query string (which may carry anything a client sends); the
# JSON formatter takes method, path, status, duration and request id as fields.
access_log_format = "%(m)s %(U)s %(s)s"
logconfig_dict = logging_config(settings.LOG_LEVEL, settings.LOG_FORMAT, settings.TRUSTED_PROXY_COUNT)

# --- Login-failure counts and revocations shared by all workers (instance_cache.py) --
# First: a folder that cannot be written to stops the start before anything is made.
_cache_path, _cache_owned = instance_cache.prepare(settings.INSTANCE_CACHE_DIR)

# --- Metrics shared by all workers (infinityai/metrics.py) -------------------------
_metrics_path, _metrics_owned = metrics_dir.prepare(settings.PROMETHEUS_MULTIPROC_DIR)


def child_exit(server, worker):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    metrics_dir.worker_exited(worker.pid)


def on_exit(server):  # noqa: ANN001, ANN201
    metrics_dir.remove(_metrics_path, _metrics_owned)
    instance_cache.remove(_cache_path, _cache_owned)
