"""One log format for Django, the app and gunicorn: JSON lines, or readable console lines.

Django's `LOGGING` (settings.py) and gunicorn's `logconfig_dict` (gunicorn.conf.py)
are both built by `logging_config()`, so every line a process writes, gunicorn's
access and error lines included, has the same fields: time, level, logger, message,
and while a request is handled request_id, method, path and client (access lines
add status and duration_ms).

Redaction happens in the formatter, on the finished fields, tracebacks included:
every value declared secret in `infinityai.config` (SECRET_KEY, DB_PASSWORD, the
admin hash and password, METRICS_TOKEN, REDIS_URL), bearer tokens, JWTs and bcrypt
hashes are replaced by `[redacted]` whichever logger wrote them. Code should still
never log a secret; this is the net under it.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

from infinityai import client_address, request_id

REDACTED = "[redacted]"
# Shorter values are not redacted: replacing "a" or "true" everywhere would garble every line.
MIN_SECRET_LENGTH = 6

_TOKEN_PATTERNS = [
    # Authorization header values, whatever the scheme's case.
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    # JSON Web Tokens (header.payload.signature, base64url).
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), REDACTED),
    # bcrypt hashes.
    (re.compile(r"\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}"), REDACTED),
    # Credentials in URLs (redis://:pw@host, mysql://user:pw@host).
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@"), r"\1" + REDACTED + "@"),
]

# Where log lines go. The service writes them to stdout (the platform's log stream);
# manage.py switches this to stderr so a command's own output (diagnose --json) stays clean.
STREAM = "ext://sys.stdout"

# Fields that come from the request context, in the order they appear.
CONTEXT_FIELDS = request_id.CONTEXT_FIELDS


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of every variable declared secret, longest first (so a value that
    contains another is replaced whole)."""
    from infinityai.config import VARIABLES, read_env_file

    source = read_env_file(os.environ if environ is None else environ)
    values: set[str] = set()
    for var in VARIABLES:
        if not var.secret:
            continue
        value = source.get(var.name, "")
        if len(value) >= MIN_SECRET_LENGTH:
            values.add(value)
            stripped = value.strip()
            if len(stripped) >= MIN_SECRET_LENGTH:
                values.add(stripped)
        if var.name == "REDIS_URL" and value:
            password = urlsplit(value).password or ""
            if len(password) >= MIN_SECRET_LENGTH:
                values.add(password)
    return sorted(values, key=len, reverse=True)


class Redactor:
    """Replaces secrets in strings (see the module docstring)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = [s for s in secrets if s]

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        for pattern, replacement in _TOKEN_PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def deep(self, value: Any) -> Any:
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {k: self.deep(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.deep(v) for v in value]
        return value


def _access_fields(record: logging.LogRecord, trusted_proxies: int) -> dict[str, Any]:
    """gunicorn's access records carry its atoms dict as `args`: take the few safe ones.

    Request headers are in there too (Authorization, Cookie): they are never copied.
    `trusted_proxies` is passed in, not read from Django's settings: gunicorn's access
    lines are formatted by whatever WSGI app the worker runs (the bench's bare app has
    no Django settings, and reading them there made every access line a traceback).
    """
    atoms = record.args
    if record.name != "gunicorn.access" or not isinstance(atoms, Mapping):
        return {}
    try:
        duration_ms = round(int(atoms.get("D", 0)) / 1000, 2)
    except (TypeError, ValueError):
        duration_ms = None
    rid = atoms.get("{x-request-id}o")
    try:
        status: int | str | None = int(atoms.get("s"))
    except (TypeError, ValueError):
        status = atoms.get("s")
    forwarded = atoms.get("{x-forwarded-for}i")
    return {
        "request_id": rid if rid and rid != "-" else None,
        "method": atoms.get("m"),
        "path": atoms.get("U"),
        "status": status,
        "duration_ms": duration_ms,
        "client": client_address.from_headers(forwarded if forwarded != "-" else None, atoms.get("h"),
                                              trusted_proxies),
    }


class ContextFilter(logging.Filter):
    """Adds the current request's id, method, path and client to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = request_id.current_context()
        for name in CONTEXT_FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, context.get(name) if context else None)
        return True


class RefusedRequestFilter(logging.Filter):
    """Django logs a request it refuses as suspicious (`django.security.*`: a Host header
    not allowed, too many form fields) at ERROR with a traceback. The mistake is the
    client's and the 400 says so; one WARNING line, as gunicorn writes for a malformed
    request, keeps ERROR for what an operator must look at."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("django.security."):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True


class JsonFormatter(_LibraryJsonFormatter):
    """python-json-logger, with our field names, gunicorn access fields and redaction."""

    FIELDS = ("time", "level", "logger", "message", *CONTEXT_FIELDS, "status", "duration_ms")

    def __init__(self, *args: Any, trusted_proxies: int, **kwargs: Any) -> None:
        kwargs.setdefault("reserved_attrs", [*_RESERVED, *CONTEXT_FIELDS, "request", "server_time", "status_code"])
        super().__init__(*args, **kwargs)
        self.redact = Redactor(secret_values())
        self.trusted_proxies = trusted_proxies

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        extra: dict[str, Any] = {}
        super().add_fields(extra, record, message_dict)
        log_data["time"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.message
        for name in CONTEXT_FIELDS:
            log_data[name] = getattr(record, name, None)
        if getattr(record, "status_code", None) is not None:
            log_data["status"] = record.status_code
        log_data.update({k: v for k, v in _access_fields(record, self.trusted_proxies).items() if v is not None})
        log_data.update(extra)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return self.redact.deep(log_data)


class ConsoleFormatter(logging.Formatter):
    """Readable lines for `make run`: time level logger [request id] message."""

    def __init__(self, trusted_proxies: int) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(rid)s%(message)s")
        self.redact = Redactor(secret_values())
        self.trusted_proxies = trusted_proxies

    def format(self, record: logging.LogRecord) -> str:
        access = _access_fields(record, self.trusted_proxies)
        rid = access.get("request_id") or getattr(record, "request_id", None)
        record.rid = f"[{rid}] " if rid else ""
        text = super().format(record)
        if access.get("duration_ms") is not None:
            text += f" {access['duration_ms']}ms"
        return self.redact(text)


_RESERVED = [
    "args", "asctime", "created", "exc_info", "exc_text", "filename", "funcName", "levelname",
    "levelno", "lineno", "module", "msecs", "message", "msg", "name", "pathname", "process",
    "processName", "relativeCreated", "stack_info", "thread", "threadName", "taskName", "rid",
]


def logging_config(level: str, fmt: str, trusted_proxies: int) -> dict[str, Any]:
    """A dictConfig for Django and gunicorn alike: everything to one stream, one format.
    `trusted_proxies` is TRUSTED_PROXY_COUNT, for the client address on access lines."""
    factory = "infinityai.logs.JsonFormatter" if fmt == "json" else "infinityai.logs.ConsoleFormatter"
    formatter = {"()": factory, "trusted_proxies": trusted_proxies}
    handler = {"class": "logging.StreamHandler", "stream": STREAM, "formatter": "main",
               "filters": ["context", "refused"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "infinityai.logs.ContextFilter"},
                    "refused": {"()": "infinityai.logs.RefusedRequestFilter"}},
        "formatters": {"main": formatter},
        "handlers": {"stdout": handler},
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            # gunicorn's loggers do not propagate; they get the same handler.
            "gunicorn.error": {"handlers": ["stdout"], "level": level, "propagate": False},
            "gunicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
            # Django logs every 4xx at WARNING through django.request; the access line says it already.
            "django.request": {"level": "ERROR" if level in ("INFO", "DEBUG") else level},
        },
    }
