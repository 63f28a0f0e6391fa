"""gunicorn settings, read from the same declared configuration as Django.

Loading the configuration here makes a bad setting stop gunicorn's master with
one clear message, before any worker boots and crash-loops.
"""

from infinityai.config import load_or_exit

settings = load_or_exit()  # not `config`: gunicorn reads that name as its own setting

bind = f"0.0.0.0:{settings.port}"
workers = settings.WEB_CONCURRENCY
# Threads let a worker keep answering /ready and ordinary requests while one
# thread waits on a slow database.
worker_class = "gthread"
threads = settings.GUNICORN_THREADS
# Longer than any database wait (connect + read), so a worker stuck behind a hung
# database is not killed in the middle of a request that would still finish.
timeout = settings.GUNICORN_TIMEOUT
graceful_timeout = 30
keepalive = 5
wsgi_app = "infinityai.wsgi:application"
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = "*"
