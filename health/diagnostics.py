"""What is wrong and what to do: the checks behind `manage.py diagnose` and
`GET /api/ops/diagnostics`.

Each check returns a `Finding` whose words come from the runbook's troubleshooting
tables (sections 3, 4 and 8). The database is probed with a fresh connection built
exactly as the service builds it (`infinityai.database.mysql_options`), under a
deadline, and the driver's error code is turned into a cause. MariaDB answers a
client without TLS that a server requiring it refuses with the same 1045 as a wrong
password; when TLS is off on our side and the server says 1045, the probe asks once
more with TLS to tell the two apart.

Nothing here prints a secret: findings name variables, hosts, users and databases,
never passwords, hashes or tokens; driver messages pass through the log redactor.

The configuration part needs no Django settings (manage.py calls it when the
configuration itself is broken, before Django can start).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from infinityai.config import SERVICE_NAME, Config, ConfigError

RUNBOOK = "docs/RUNBOOK.md"


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"  # works, but a setting weakens or disables something
    FAIL = "fail"  # broken: the service cannot do its job


@dataclass
class Finding:
    check: str
    status: Status
    summary: str
    cause: str | None = None  # a stable key (e.g. "access_denied") for scripts and tests
    action: str | None = None
    code: int | None = None  # the driver's error code, when there is one
    detail: str | None = None  # the driver's message, redacted


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    service: str = SERVICE_NAME
    version: str | None = None

    @property
    def ok(self) -> bool:
        return all(f.status is not Status.FAIL for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "service": self.service,
            "version": self.version,
            "checks": [{k: (v.value if isinstance(v, StrEnum) else v) for k, v in asdict(f).items()}
                       for f in self.findings],
        }


# --- configuration ---------------------------------------------------------------

def configuration_error_findings(error: ConfigError) -> list[Finding]:
    return [Finding("configuration", Status.FAIL, problem, cause="invalid_setting",
                    action="Fix the variable named and redeploy (docs/CONFIGURATION.md lists them all).")
            for problem in error.problems]


def configuration_findings(config: Config) -> list[Finding]:
    findings = [Finding("configuration", Status.OK, "every variable parses and passes validation")]
    for warning in config.warnings:
        findings.append(Finding("configuration", Status.WARN, warning))
    if config.uses_mysql and "@" in (config.DB_USER or ""):
        findings.append(Finding(
            "configuration", Status.WARN,
            f"DB_USER {config.DB_USER!r} has the user@server form of Azure's retired Single Server",
            cause="user_format",
            action="Azure Database for MySQL Flexible Server takes the plain user name: set DB_USER to the "
                   "part before '@' unless the server really expects the suffix."))
    findings += _fallback_findings(config)
    if not config.METRICS_TOKEN:
        findings.append(Finding("metrics", Status.OK, "METRICS_TOKEN is unset: GET /metrics answers 404"))
    return findings


def _fallback_findings(config: Config) -> list[Finding]:
    """The fallback admin as accounts sees it (`accounts.fallback.status`, the one judge)."""
    from django.apps import apps

    if not apps.ready:  # report_without_django: accounts cannot be asked
        return [Finding("fallback admin", Status.WARN, "not checked: Django could not start (see below)")]
    from accounts.fallback import status

    state = status()
    if not state["requested"]:
        return [Finding("fallback admin", Status.OK, "disabled (ALLOW_FALLBACK_LOGIN=false)")]
    if not state["enabled"]:
        # A failure, not a warning: an operator turns the fallback on to get in when nothing
        # else works, and would otherwise learn at that moment that it does not.
        return [Finding(
            "fallback admin", Status.FAIL,
            f"ALLOW_FALLBACK_LOGIN=true but the fallback admin cannot sign in: {state['problem']}",
            cause="fallback_misconfigured",
            action="Generate a hash with `python scripts/generate_bcrypt_hash.py`, set ADMIN_USERNAME and "
                   "ADMIN_PASSWORD_HASH, and redeploy (runbook section 4). Login answers 400 until then.")]
    return [Finding("fallback admin", Status.WARN,
                    f"enabled for {config.ADMIN_USERNAME!r}: turn it off (ALLOW_FALLBACK_LOGIN=false) once the "
                    "database works", cause="fallback_enabled")]


# --- database --------------------------------------------------------------------

def _describe_target(config: Config) -> str:
    return f"{config.DB_HOST}:{config.DB_PORT}"


def _causes(config: Config) -> dict[str, tuple[str, str]]:
    """cause -> (summary, action), in the runbook's words."""
    target = _describe_target(config)
    return {
        "access_denied": (
            f"access denied for user {config.DB_USER!r} at {target}: wrong password or user name",
            "Check DB_PASSWORD (rotate it if unsure) and DB_USER, update the secret and redeploy. Azure "
            "Database for MySQL Flexible Server takes the plain user name; 'user@server' was Single "
            "Server's format."),
        "tls_required": (
            f"the server at {target} requires TLS (require_secure_transport=ON) but DB_SSL_DISABLED=true",
            "Remove DB_SSL_DISABLED (or set it to false) and redeploy; never disable TLS in production."),
        "tls_unavailable": (
            f"the server at {target} does not offer TLS, and TLS is required (DB_SSL_DISABLED is not true)",
            "Check that DB_HOST and DB_PORT point at the real server: Azure Database for MySQL Flexible "
            "Server always offers TLS. Only for a local server without TLS, set DB_SSL_DISABLED=true."),
        "auth_method_refused": (
            f"the server at {target} asked for a sign-in method the service does not allow, such as "
            "mysql_clear_password, which would send DB_PASSWORD as it is",
            "Check that DB_HOST and DB_PORT point at the real server: Azure Database for MySQL signs in "
            "with mysql_native_password or caching_sha2_password (the allowed methods are in "
            "infinityai/mysql_backend/client.cnf; Entra ID token sign-in is not supported)."),
        "database_missing": (
            f"database {config.DB_NAME!r} does not exist on {target}",
            f"Create it (CREATE DATABASE `{config.DB_NAME}` CHARACTER SET utf8mb4) or fix DB_NAME, then run "
            "`python manage.py migrate`."),
        "no_privilege": (
            f"user {config.DB_USER!r} may not use database {config.DB_NAME!r}: it does not exist, or the user "
            "has no rights on it (the server does not say which)",
            f"Check DB_NAME; create the database if missing (CREATE DATABASE `{config.DB_NAME}` CHARACTER SET "
            f"utf8mb4) and GRANT ALL ON `{config.DB_NAME}`.* TO the user."),
        "refused": (
            f"nothing accepts connections at {target} (connection refused)",
            f"Check DB_HOST and DB_PORT ({config.DB_PORT}) and that the server is running (Azure portal: the "
            "server's Overview shows its status)."),
        "not_mysql": (
            f"{target} accepted the connection and closed it at once: not a MySQL server (or a proxy "
            "that refuses us)",
            f"Check that DB_HOST and DB_PORT ({config.DB_PORT}) point at the MySQL server, not at another "
            "service on that host; Azure Database for MySQL listens on 3306."),
        "timeout": (
            f"no answer from {target} within DB_CONNECT_TIMEOUT ({config.DB_CONNECT_TIMEOUT} s): a firewall "
            "dropping traffic, or the wrong host",
            "Azure MySQL server > Networking: allow public access from Azure services or add the App "
            "Service's outbound IP addresses; check DB_HOST. A firewall change needs no restart: "
            "re-check /health (a changed DB_HOST takes effect when App Service restarts the app on "
            "saving the setting)."),
        "hung": (
            f"{target} accepted the connection but said nothing within DB_CONNECT_TIMEOUT "
            f"({config.DB_CONNECT_TIMEOUT} s): a hung or overloaded server, or a service that is not MySQL",
            "Check the server's state and load (Azure portal: the server's Overview and Monitoring; "
            f"restart it there if it is hung) and that DB_PORT ({config.DB_PORT}) is its MySQL port. The "
            "service needs no restart: /health reconnects once the database answers."),
        "unknown_host": (
            f"the host name {config.DB_HOST!r} does not resolve",
            "Check DB_HOST for typos (Azure: <server>.mysql.database.azure.com); with a private endpoint, "
            "check the private DNS zone linked to the App Service's network."),
        "ca_untrusted": (
            f"TLS: the certificate of {target} is not signed by a trusted CA "
            f"({'DB_SSL_CA' if config.DB_SSL_CA else 'the system CA bundle'})",
            "Point DB_SSL_CA at the CA that signed the server's certificate (Azure: DigiCert Global Root G2 "
            "and Microsoft RSA Root CA 2017), or set DB_SSL_VERIFY=false to encrypt without verifying."),
        "host_mismatch": (
            f"TLS: the certificate of {target} does not name host {config.DB_HOST!r}",
            "Use the server's own host name in DB_HOST (not an IP address or alias), or set "
            "DB_SSL_VERIFY=false."),
        "tls_error": (
            f"TLS could not be set up with {target}",
            "Check DB_SSL_CA, DB_SSL_VERIFY and DB_SSL_DISABLED against the server's TLS settings."),
        "connection_lost": (
            f"the connection to {target} was lost during the check",
            "Retry; if it persists, check the server's health and any proxy or firewall between."),
        "driver_missing": (
            f"DB_HOST is set ({config.DB_HOST!r}) but the MySQL client library (mysqlclient) is not installed",
            "Run `make install-mysql` (it installs mysqlclient and the system packages it builds against), "
            "or unset DB_HOST to use SQLite."),
        "unknown": (
            f"the database at {target} could not be used",
            "Read the detail below and the server's logs; runbook section 3."),
    }


@dataclass
class Probe:
    """The outcome of one connection attempt."""

    ok: bool
    code: int | None = None
    message: str = ""
    timed_out: bool = False
    elapsed: float = 0.0  # seconds the attempt took (a refusal at once is not a timeout)
    cipher: str = ""  # the session's TLS cipher; empty on a plain connection


def _connect_kwargs(config: Config, **tls_override: Any) -> dict[str, Any]:
    from infinityai.database import mysql_options

    options = mysql_options(config)
    if tls_override:
        options.pop("ssl", None)
        options.update(tls_override)
    return {"host": config.DB_HOST, "port": config.DB_PORT, "user": config.DB_USER,
            "password": config.DB_PASSWORD, "database": config.DB_NAME, **options}


def _with_deadline(work: Callable[[], Probe], deadline: float) -> Probe:
    """Run `work` on a daemon thread; give up waiting after `deadline` seconds (the
    driver's own timeouts end the thread later, and a command can exit meanwhile)."""
    box: list[Probe] = []

    def run() -> None:
        try:
            box.append(work())
        except Exception as exc:  # never lose the reason
            box.append(Probe(False, None, f"{type(exc).__name__}: {exc}"))

    thread = threading.Thread(target=run, name="diagnose-db", daemon=True)
    thread.start()
    thread.join(deadline)
    return box[0] if box else Probe(False, timed_out=True)


def _mysql_probe(kwargs: Mapping[str, Any]) -> Probe:
    import MySQLdb

    from infinityai.database import open_session

    started = time.monotonic()
    try:
        conn, cipher = open_session(lambda: MySQLdb.connect(**kwargs), kwargs)
    except MySQLdb.Error as exc:
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        return Probe(False, code, str(exc.args[1]) if len(exc.args) > 1 else str(exc),
                     elapsed=time.monotonic() - started)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return Probe(True, cipher=cipher)
    except MySQLdb.Error as exc:
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        return Probe(False, code, str(exc.args[1]) if len(exc.args) > 1 else str(exc))
    finally:
        conn.close()


def classify(probe: Probe, config: Config) -> str:
    """The cause key for a failed probe (MySQL and MariaDB client error codes)."""
    message = probe.message.lower()
    if probe.timed_out:
        return "timeout"
    code = probe.code
    if code == 3159:  # MySQL: connections using insecure transport are prohibited
        return "tls_required"
    if code == 5010:  # Connector/C: the plugin is not in restricted_auth
        return "auth_method_refused"
    if code in (1045, 1698):  # 1698: MariaDB's access denied for a user it knows by no password
        return "access_denied"
    if code == 1049:
        return "database_missing"
    if code == 1044:
        return "no_privilege"
    if code == 2005 or "unknown server host" in message or "name or service not known" in message:
        return "unknown_host"
    if code in (2003, 2002):
        # 2003 covers both "refused" (111) and a connect that timed out (110).
        return "timeout" if re.search(r"\(110\)|timed out|timeout", message) else "refused"
    if code == 2026 and "server does not support it" in message:
        return "tls_unavailable"
    if code == 2026:
        if "self-signed" in message or "unable to get" in message or "certificate verify failed" in message \
                or "ca " in message or "cafile" in message:
            return "ca_untrusted"
        if "validation of ssl server certificate failed" in message or "hostname" in message \
                or "host name" in message:
            return "host_mismatch"
        return "tls_error"
    if code in (2007, 2012, 2027):  # protocol mismatch, bad handshake, malformed packet
        return "not_mysql"
    if code in (2013, 2006):
        if "handshake" not in message and "initial communication" not in message:
            return "connection_lost"
        # At handshake: something accepted the connection (a firewall that drops traffic
        # never completes TCP: 2003 above). Silent until the connect timeout: a hung
        # server. Closed at once: no MySQL server there.
        return "not_mysql" if probe.elapsed < config.DB_CONNECT_TIMEOUT / 2 else "hung"
    return "unknown"


def _redact(text: str) -> str:
    from infinityai.logs import Redactor, secret_values

    return Redactor(secret_values())(text)


def database_findings(config: Config) -> list[Finding]:
    if not config.uses_mysql:
        return _sqlite_findings(config)
    timeout = float(config.DB_CONNECT_TIMEOUT) + 1.0
    target = _describe_target(config)
    causes = _causes(config)
    started = time.monotonic()
    probe = _with_deadline(lambda: _mysql_probe(_connect_kwargs(config)), timeout)
    elapsed_ms = round((time.monotonic() - started) * 1000)
    if probe.ok:
        tls = "TLS off (DB_SSL_DISABLED=true)" if config.DB_SSL_DISABLED else \
            f"TLS {_connect_kwargs(config)['ssl_mode']} ({probe.cipher})"
        findings = [Finding("database", Status.OK,
                            f"connected to {config.DB_NAME!r} at {target} as {config.DB_USER!r}, {tls}, "
                            f"checked in {elapsed_ms} ms")]
        return findings + migration_findings()
    cause = classify(probe, config)
    if cause == "access_denied" and config.DB_SSL_DISABLED:
        # MariaDB refuses a plain connection under require_secure_transport with 1045 too.
        retry = _with_deadline(lambda: _mysql_probe(_connect_kwargs(config, ssl_mode="REQUIRED")), timeout)
        # Signed in with TLS (even if the database then is missing or forbidden): TLS was the problem.
        if retry.ok or retry.code in (1044, 1049):
            cause = "tls_required"
    summary, action = causes[cause]
    return [Finding("database", Status.FAIL, summary, cause=cause, action=action, code=probe.code,
                    detail=_redact(probe.message) if probe.message else None)]


def _sqlite_findings(config: Config) -> list[Finding]:
    import sqlite3

    from infinityai.database import sqlite_path

    path = sqlite_path(config)
    if not path.exists():
        return [Finding("database", Status.FAIL, f"SQLite file {str(path)!r} does not exist",
                        cause="database_missing",
                        action="Run `python manage.py migrate` to create it, or fix SQLITE_PATH.")]
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=2)
        try:
            conn.execute("SELECT 1").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return [Finding("database", Status.FAIL, f"SQLite file {str(path)!r} cannot be opened for writing",
                        cause="unknown", action="Check the file's permissions and SQLITE_PATH.",
                        detail=str(exc))]
    return [Finding("database", Status.OK, f"SQLite at {str(path)!r} (DB_HOST is empty)"), *migration_findings()]


def migration_findings() -> list[Finding]:
    """Unapplied migrations, through Django's own connection (needs settings)."""
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    connection = connections[DEFAULT_DB_ALIAS]
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return [Finding("migrations", Status.WARN, "could not read the applied migrations",
                        detail=_redact(f"{type(exc).__name__}: {exc}"))]
    finally:
        connection.close()
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
        return [Finding("migrations", Status.FAIL, f"{len(plan)} migration(s) not applied ({names})",
                        cause="migrations_pending",
                        action="Run `python manage.py migrate` (the deploy workflow runs it before switching "
                               "the container).")]
    return [Finding("migrations", Status.OK, "every migration is applied")]


def diagnose(config: Config) -> Report:
    """Every check, configuration first."""
    from infinityai.version import app_version

    report = Report(version=app_version())
    report.findings += configuration_findings(config)
    report.findings += database_findings(config)
    return report


# --- rendering ---------------------------------------------------------------------

MARKS = {Status.OK: "[ OK ]", Status.WARN: "[WARN]", Status.FAIL: "[FAIL]"}


def render_text(report: Report) -> str:
    lines = [f"{report.service} {report.version or ''} diagnose".replace("  ", " ")]
    for f in report.findings:
        lines.append(f"{MARKS[f.status]} {f.check}: {f.summary}")
        if f.code is not None or f.detail:
            code = f"MySQL error {f.code}" if f.code is not None else "detail"
            lines.append(f"       {code}: {f.detail or ''}".rstrip(": "))
        if f.action:
            lines.append(f"       action: {f.action}")
    failures = sum(f.status is Status.FAIL for f in report.findings)
    warnings = sum(f.status is Status.WARN for f in report.findings)
    if failures:
        lines.append(f"NOT OK: {failures} problem(s), {warnings} warning(s). See {RUNBOOK} section 3.")
    else:
        lines.append(f"OK ({warnings} warning(s))")
    return "\n".join(lines)


def driver_findings(config: Config) -> list[Finding]:
    """A failed check when DB_HOST is set but the MySQL client library cannot be imported.

    Django imports the database backend while it starts, so without mysqlclient every
    command dies in a traceback before diagnose could say anything; manage.py asks
    this first. Needs no Django settings.
    """
    if not config.uses_mysql:
        return []
    try:
        import MySQLdb  # noqa: F401
    except ImportError as exc:
        summary, action = _causes(config)["driver_missing"]
        return [Finding("database", Status.FAIL, summary, cause="driver_missing", action=action,
                        detail=f"{type(exc).__name__}: {exc}")]
    return []


def report_without_django(config: Config, findings: list[Finding], as_json: bool) -> int:
    """For manage.py when Django cannot start (e.g. no MySQL driver): print the report, return 1."""
    import json
    import sys

    report = Report(findings=[*configuration_findings(config), *findings])
    sys.stdout.write((json.dumps(report.as_dict(), indent=2) if as_json else render_text(report)) + "\n")
    return 0 if report.ok else 1


def report_broken_configuration(error: ConfigError, as_json: bool) -> int:
    """For manage.py when the configuration does not load: print the report, return 1."""
    import json
    import sys

    report = Report(findings=configuration_error_findings(error))
    report.findings.append(Finding("database", Status.WARN, "not checked: fix the configuration first"))
    sys.stdout.write((json.dumps(report.as_dict(), indent=2) if as_json else render_text(report)) + "\n")
    return 1
