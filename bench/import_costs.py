"""What each library the service imports costs a worker, in resident memory and time.

Run by `make bench` in bench/.venv (the production packages), in a process of its own:
it starts where the minimal Django project starts (Django configured with only auth
and contenttypes, the request handler loaded), then imports one library at a time in
the order below and prints the growth of RSS after each, as JSON. The figures depend
on the order (a module shared by two libraries counts for the first), so they say
where the service's worker RSS goes beyond the minimal Django worker's, not what
removing one library would save.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

# (what, the modules that bring it in); each a library the service loads at start or
# on its first sign-in.
LIBRARIES = [
    ("django.test (rest_framework_simplejwt.settings imports it)", ["django.test"]),
    ("PyYAML (DRF imports it when installed; drf-spectacular needs it)", ["yaml"]),
    ("Django REST framework", ["rest_framework.views", "rest_framework.serializers", "rest_framework.generics"]),
    ("simplejwt and PyJWT", ["rest_framework_simplejwt.tokens", "rest_framework_simplejwt.authentication"]),
    ("django.contrib.admin, sessions, messages, auth forms",
     ["django.contrib.admin", "django.contrib.sessions.backends.db", "django.contrib.messages",
      "django.contrib.auth.forms"]),
    ("mysqlclient and Django's MySQL backend", ["MySQLdb", "django.db.backends.mysql.base"]),
    ("prometheus-client", ["prometheus_client", "prometheus_client.multiprocess"]),
    ("WhiteNoise", ["whitenoise.middleware", "whitenoise.storage"]),
    ("python-json-logger", ["pythonjsonlogger.json"]),
    ("django-cors-headers", ["corsheaders.middleware"]),
    ("bcrypt", ["bcrypt"]),
    ("drf-spectacular (only on a first /api/schema or /docs)", ["drf_spectacular.openapi", "drf_spectacular.views"]),
]


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def main() -> None:
    import django
    from django.conf import settings

    settings.configure(SECRET_KEY="import-costs-" + "x" * 40, USE_TZ=True,
                       INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
                       DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}})
    django.setup()
    import django.core.handlers.wsgi  # what the minimal Django project loads
    import django.http

    rows = []
    before = rss_mib()
    for what, modules in LIBRARIES:
        started = time.perf_counter()
        for module in modules:
            importlib.import_module(module)
        after = rss_mib()
        rows.append({"library": what, "rss_mib": round(after - before, 2),
                     "import_ms": round((time.perf_counter() - started) * 1000, 1)})
        before = after
    json.dump(rows, sys.stdout)


if __name__ == "__main__":
    main()
