"""`manage.py diagnose` names the real cause of each database fault, made for real:
the shared MariaDB (wrong password, missing database), loopback faults (refused,
never answering), an unresolvable name, and a private MariaDB that requires TLS."""

from __future__ import annotations

import json
import secrets
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import mysql
from tests.support.faults import ClosingListener, HangingListener, PlainPasswordServer, refused_port
from tests.support.mariadb import MariaDBInstance
from tests.support.servers import manage, service_env
from tests.support.tls import make_certificates

SENTINEL_DB_PASSWORD = "sentinel-db-password-9c2e71d4"


@dataclass
class Outcome:
    code: int
    text: str
    report: dict
    elapsed: float

    def database(self) -> dict:
        return next(c for c in self.report["checks"] if c["check"] == "database")


def run_diagnose(**env: str) -> Outcome:
    """Both forms of the command; they must agree on the verdict."""
    environment = service_env(**env)
    started = time.monotonic()
    human = manage(environment, "diagnose", timeout=30)
    elapsed = time.monotonic() - started
    machine = manage(environment, "diagnose", "--json", timeout=30)
    report = json.loads(machine.stdout)
    assert human.returncode == machine.returncode, (human.stdout, machine.stdout)
    for output in (human.stdout, human.stderr, machine.stdout, machine.stderr):
        assert SENTINEL_DB_PASSWORD not in output
        assert "sentinel-secret-key" not in output
    return Outcome(human.returncode, human.stdout, report, elapsed)


def assert_cause(outcome: Outcome, cause: str, code: int | None, *phrases: str) -> None:
    assert outcome.code == 1, outcome.text
    assert outcome.report["ok"] is False
    database = outcome.database()
    assert database["status"] == "fail"
    assert database["cause"] == cause, outcome.text
    assert database["code"] == code
    assert database["action"]
    assert "[FAIL] database:" in outcome.text
    for phrase in phrases:
        assert phrase in outcome.text, outcome.text


@pytest.fixture(scope="module")
def throwaway_user():
    """A password user on the shared server, with rights on one database of its own."""
    reason = mysql.unavailable_reason()
    if reason:
        pytest.skip(reason)
    user, password = f"iai_diag_{secrets.token_hex(3)}", "right-" + secrets.token_hex(8)
    database = mysql.create_database("test_iai_diag")
    mysql.execute(f"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY %s", (password,))
    mysql.execute(f"GRANT ALL ON `{database}`.* TO '{user}'@'127.0.0.1'")
    try:
        yield {"user": user, "password": password, "database": database}
    finally:
        mysql.execute(f"DROP USER IF EXISTS '{user}'@'127.0.0.1'")
        mysql.drop_database(database)


def shared_env(**env: str) -> dict[str, str]:
    return {"DB_HOST": mysql.HOST, "DB_PORT": str(mysql.PORT), "DB_SSL_DISABLED": "true",
            "DB_CONNECT_TIMEOUT": "2", **env}


@pytest.mark.mysql
def test_all_well_exits_zero(mysql_env) -> None:
    """A migrated database: every check passes, exit 0, and the JSON says ok."""
    outcome = run_diagnose(**mysql_env)
    assert outcome.code == 0, outcome.text
    assert outcome.report["ok"] is True
    assert outcome.database()["status"] == "ok"
    assert "[ OK ] database: connected" in outcome.text
    assert "[ OK ] migrations: every migration is applied" in outcome.text
    assert "[FAIL]" not in outcome.text


@pytest.mark.mysql
def test_wrong_password(throwaway_user) -> None:
    """1045 with TLS not involved: the cause is the password or the user name's format."""
    outcome = run_diagnose(**shared_env(DB_USER=throwaway_user["user"], DB_PASSWORD=SENTINEL_DB_PASSWORD,
                                        DB_NAME=throwaway_user["database"]))
    assert_cause(outcome, "access_denied", 1045, "wrong password or user name", "plain user name",
                 "'user@server' was Single Server's format")


@pytest.mark.mysql
def test_single_server_user_format(throwaway_user) -> None:
    """`user@server` is refused by the server and flagged as the old format."""
    outcome = run_diagnose(**shared_env(DB_USER=f"{throwaway_user['user']}@infinityai-prod-db",
                                        DB_PASSWORD=throwaway_user["password"], DB_NAME=throwaway_user["database"]))
    # MariaDB answers an unknown user with 1045 or, depending on its auth plugins, 1698.
    assert_cause(outcome, "access_denied", outcome.database()["code"])
    assert outcome.database()["code"] in (1045, 1698)
    warning = next(c for c in outcome.report["checks"] if c["cause"] == "user_format")
    assert warning["status"] == "warn"


@pytest.mark.mysql
def test_missing_database(throwaway_user) -> None:
    """An administrator (as on Azure) is told 1049: the database does not exist."""
    outcome = run_diagnose(**shared_env(DB_USER=mysql.USER, DB_PASSWORD=mysql.PASSWORD,
                                        DB_NAME="test_iai_no_such_db"))
    assert_cause(outcome, "database_missing", 1049, "'test_iai_no_such_db' does not exist", "Create it")


@pytest.mark.mysql
def test_missing_database_for_a_limited_user(throwaway_user) -> None:
    """A user without global rights gets 1044 whether the database is missing or forbidden: both are said."""
    outcome = run_diagnose(**shared_env(DB_USER=throwaway_user["user"], DB_PASSWORD=throwaway_user["password"],
                                        DB_NAME="test_iai_no_such_db"))
    assert_cause(outcome, "no_privilege", 1044, "it does not exist, or the user has no rights on it",
                 "CREATE DATABASE")


@pytest.mark.mysql
def test_unmigrated_database_is_a_failure(throwaway_user) -> None:
    """Connected, but the schema is not there: run migrate."""
    outcome = run_diagnose(**shared_env(DB_USER=throwaway_user["user"], DB_PASSWORD=throwaway_user["password"],
                                        DB_NAME=throwaway_user["database"]))
    assert outcome.code == 1
    assert outcome.database()["status"] == "ok"
    migrations = next(c for c in outcome.report["checks"] if c["check"] == "migrations")
    assert migrations["cause"] == "migrations_pending"
    assert "manage.py migrate" in outcome.text


def test_refused_port() -> None:
    outcome = run_diagnose(**shared_env(DB_PORT=str(refused_port()), DB_USER="app", DB_NAME="app"))
    assert_cause(outcome, "refused", outcome.database()["code"], "connection refused", "DB_PORT")
    assert outcome.database()["code"] in (2002, 2003)


def test_never_answering_listener() -> None:
    """Accepts and stays silent: TCP got through, so not a firewall; a hung server (or not
    MySQL), said within the connect timeout, and no restart of the service asked for."""
    with HangingListener() as listener:
        outcome = run_diagnose(**shared_env(DB_PORT=str(listener.port), DB_USER="app", DB_NAME="app",
                                            DB_CONNECT_TIMEOUT="1"))
    assert_cause(outcome, "hung", outcome.database()["code"], "accepted the connection but said nothing",
                 "hung or overloaded server", f"DB_PORT ({listener.port})", "needs no restart")
    assert "firewall" not in outcome.text and "redeploy" not in outcome.text
    assert outcome.elapsed < 8


def test_listener_that_closes_at_once_is_not_mysql() -> None:
    """Something else owns the port and hangs up at once: not a firewall, not a timeout."""
    with ClosingListener() as listener:
        outcome = run_diagnose(**shared_env(DB_PORT=str(listener.port), DB_USER="app", DB_NAME="app",
                                            DB_CONNECT_TIMEOUT="4"))
    assert_cause(outcome, "not_mysql", 2013, "closed it at once", "not a MySQL server",
                 f"DB_PORT ({listener.port}) point at the MySQL server")
    assert "firewall" not in outcome.text and "DB_CONNECT_TIMEOUT" not in outcome.text


def test_refused_action_names_the_configured_port() -> None:
    port = refused_port()
    outcome = run_diagnose(**shared_env(DB_PORT=str(port), DB_USER="app", DB_NAME="app"))
    assert f"DB_PORT ({port})" in outcome.database()["action"]
    assert "(3306)" not in outcome.database()["action"]


def test_unresolvable_host() -> None:
    outcome = run_diagnose(**shared_env(DB_HOST="infinityai-no-such-db.invalid", DB_USER="app", DB_NAME="app"))
    assert_cause(outcome, "unknown_host", 2005, "does not resolve")


def test_missing_ca_file_is_a_configuration_failure(tmp_path: Path) -> None:
    """A CA path that does not exist: named as DB_SSL_CA, before any connection."""
    outcome = run_diagnose(**shared_env(DB_SSL_DISABLED="false", DB_SSL_VERIFY="true",
                                        DB_SSL_CA=str(tmp_path / "missing-ca.pem"), DB_USER="app", DB_NAME="app"))
    assert outcome.code == 1
    failure = next(c for c in outcome.report["checks"] if c["status"] == "fail")
    assert failure["check"] == "configuration" and failure["summary"].startswith("DB_SSL_CA:")
    assert "[FAIL] configuration: DB_SSL_CA:" in outcome.text


def test_broken_configuration_is_reported_not_crashed() -> None:
    """Every bad variable is listed by diagnose itself, exit 1, secrets not shown."""
    outcome = run_diagnose(DEBUG="maybe", DB_PASSWORD=SENTINEL_DB_PASSWORD, DB_HOST="x", DB_NAME="mysql")
    assert outcome.code == 1
    summaries = [c["summary"] for c in outcome.report["checks"] if c["status"] == "fail"]
    assert any(s.startswith("DEBUG:") for s in summaries)
    assert any(s.startswith("DB_NAME:") for s in summaries)


# --- TLS, against a private MariaDB ---------------------------------------------------

@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """A private MariaDB with TLS that refuses plain connections, a user and a database."""
    reason = mysql.unavailable_reason()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("tls-mariadb")
    certs = make_certificates(base / "certs")
    server = MariaDBInstance(base / "db", extra_args=(
        f"--ssl-ca={certs.ca}", f"--ssl-cert={certs.server_cert}", f"--ssl-key={certs.server_key}"))
    server.start()
    try:
        password = "tls-" + secrets.token_hex(8)
        mysql.execute("CREATE DATABASE app CHARACTER SET utf8mb4", port=server.port)
        mysql.execute("CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY %s", (password,), port=server.port)
        mysql.execute("GRANT ALL ON app.* TO 'app'@'127.0.0.1'", port=server.port)
        # Same effect as starting with --require-secure-transport=ON, set once the
        # setup above (plain TCP as root) is done.
        mysql.execute("SET GLOBAL require_secure_transport = ON", port=server.port)
        yield {"server": server, "certs": certs, "password": password}
    finally:
        server.stop()


def tls_env(tls_server, **env: str) -> dict[str, str]:
    return {"DB_HOST": "127.0.0.1", "DB_PORT": str(tls_server["server"].port), "DB_USER": "app",
            "DB_PASSWORD": tls_server["password"], "DB_NAME": "app", "DB_CONNECT_TIMEOUT": "3", **env}


@pytest.mark.mysql
def test_tls_verified_connection_works(tls_server) -> None:
    """Control: the right CA and host verify; the database check passes."""
    outcome = run_diagnose(**tls_env(tls_server, DB_SSL_VERIFY="true", DB_SSL_CA=str(tls_server["certs"].ca)))
    assert outcome.database()["status"] == "ok", outcome.text
    assert "TLS VERIFY_IDENTITY" in outcome.database()["summary"]


@pytest.mark.mysql
def test_tls_required_but_disabled(tls_server) -> None:
    """MariaDB answers 1045 to a plain connection; diagnose says TLS, not password."""
    outcome = run_diagnose(**tls_env(tls_server, DB_SSL_DISABLED="true"))
    assert_cause(outcome, "tls_required", 1045, "requires TLS", "DB_SSL_DISABLED")
    assert "wrong password" not in outcome.text


@pytest.mark.mysql
def test_wrong_password_with_tls_off_is_still_a_password(tls_server) -> None:
    """With TLS off and a wrong password, the TLS retry is refused too: the password it is."""
    outcome = run_diagnose(**tls_env(tls_server, DB_SSL_DISABLED="true", DB_PASSWORD=SENTINEL_DB_PASSWORD))
    assert_cause(outcome, "access_denied", 1045, "wrong password or user name")


@pytest.mark.mysql
def test_wrong_ca(tls_server) -> None:
    """A CA that did not sign the server's certificate: 2026, said as the CA."""
    outcome = run_diagnose(**tls_env(tls_server, DB_SSL_VERIFY="true", DB_SSL_CA=str(tls_server["certs"].other_ca)))
    assert_cause(outcome, "ca_untrusted", 2026, "not signed by a trusted CA", "DB_SSL_CA")


@pytest.mark.mysql
def test_certificate_for_another_host(tls_server) -> None:
    """The certificate names 127.0.0.1; connecting by another name for it fails verification of the name.
    (Not `localhost`: the client library takes that to mean its unix socket.)"""
    name = socket.gethostname()
    try:
        if socket.gethostbyname(name) != "127.0.0.1":
            pytest.skip(f"the host name {name!r} does not resolve to 127.0.0.1 here")
    except OSError:
        pytest.skip(f"the host name {name!r} does not resolve")
    outcome = run_diagnose(**tls_env(tls_server, DB_HOST=name, DB_SSL_VERIFY="true",
                                     DB_SSL_CA=str(tls_server["certs"].ca)))
    assert_cause(outcome, "host_mismatch", 2026, f"does not name host {name!r}")


@pytest.mark.mysql
def test_tls_unverified_is_still_encrypted(tls_server) -> None:
    """DB_SSL_VERIFY=false encrypts without verifying: the summary names the session's cipher."""
    outcome = run_diagnose(**tls_env(tls_server))
    summary = outcome.database()["summary"]
    assert outcome.database()["status"] == "ok", outcome.text
    assert "TLS REQUIRED (" in summary and "TLS REQUIRED ()" not in summary, summary


@pytest.mark.mysql
def test_tls_required_but_the_server_offers_none(throwaway_user) -> None:
    """The client library would sign in over plain TCP here; diagnose says the server has no TLS."""
    if mysql.execute("SHOW VARIABLES LIKE 'have_ssl'")[0][1] == "YES":
        pytest.skip("the local MariaDB offers TLS here")
    outcome = run_diagnose(**shared_env(DB_SSL_DISABLED="false", DB_USER=throwaway_user["user"],
                                        DB_PASSWORD=throwaway_user["password"],
                                        DB_NAME=throwaway_user["database"]))
    assert_cause(outcome, "tls_unavailable", 2026, "does not offer TLS", "DB_SSL_DISABLED=true")


def test_tls_required_and_a_server_without_it_is_refused_before_signing_in() -> None:
    """The client library would sign in over plain TCP and could be asked for the password
    in clear. With TLS required, the greeting is read first and nothing is sent."""
    with PlainPasswordServer() as server:
        outcome = run_diagnose(**shared_env(DB_PORT=str(server.port), DB_SSL_DISABLED="false", DB_USER="app",
                                            DB_NAME="app", DB_PASSWORD=SENTINEL_DB_PASSWORD))
    assert_cause(outcome, "tls_unavailable", 2026, "does not offer TLS", "nothing was sent")
    assert server.received and all(got == b"" for got in server.received), server.received


@pytest.mark.parametrize(("first", "cause", "code"), [("close", "not_mysql", 2013), ("error", "unknown", 1040)])
def test_a_first_connection_that_fails_does_not_let_a_plain_one_sign_in(first: str, cause: str, code: int) -> None:
    """The greeting is read on a connection of its own: if that one is closed or refused,
    the driver must not be let try a second one, which would sign in over plain TCP."""
    with PlainPasswordServer(first=first) as server:  # one run: only its first connection fails
        result = manage(service_env(**shared_env(DB_PORT=str(server.port), DB_SSL_DISABLED="false", DB_USER="app",
                                                 DB_NAME="app", DB_PASSWORD=SENTINEL_DB_PASSWORD)),
                        "diagnose", "--json", timeout=30)
    database = next(c for c in json.loads(result.stdout)["checks"] if c["check"] == "database")
    assert result.returncode == 1 and (database["cause"], database["code"]) == (cause, code), result.stdout
    assert server.connections == 1, "the driver was let open a second connection"
    assert SENTINEL_DB_PASSWORD not in result.stdout + result.stderr


def test_the_password_is_never_sent_in_clear_even_with_tls_off() -> None:
    """DB_SSL_DISABLED=true and a server that asks for mysql_clear_password: the client
    may use only the plugins in infinityai/mysql_backend/client.cnf, so it refuses."""
    with PlainPasswordServer() as server:
        outcome = run_diagnose(**shared_env(DB_PORT=str(server.port), DB_USER="app", DB_NAME="app",
                                            DB_PASSWORD=SENTINEL_DB_PASSWORD))
    assert_cause(outcome, "auth_method_refused", 5010, "does not allow", "mysql_clear_password")
    assert server.received and any(server.received), "the client did not even try to sign in"
    assert not any(SENTINEL_DB_PASSWORD.encode() in got for got in server.received), server.received


def test_mysql_client_missing_is_a_failed_check(tmp_path: Path) -> None:
    """DB_HOST set right after `make run` on SQLite (no mysqlclient): a finding, not Django's traceback.

    The missing package is made real for this process only: a `sitecustomize` on
    PYTHONPATH puts None in sys.modules["MySQLdb"], which is how Python marks a
    module that cannot be imported (the same ImportError an absent package raises).
    """
    (tmp_path / "sitecustomize.py").write_text('import sys\nsys.modules["MySQLdb"] = None\n')
    outcome = run_diagnose(**shared_env(PYTHONPATH=str(tmp_path), DB_USER="app", DB_NAME="app",
                                        DB_PASSWORD=SENTINEL_DB_PASSWORD))
    assert_cause(outcome, "driver_missing", None, "mysqlclient", "make install-mysql")
    assert "Traceback" not in outcome.text
    human = manage(service_env(**shared_env(PYTHONPATH=str(tmp_path))), "diagnose", timeout=30)
    assert "Traceback" not in human.stderr and "ImproperlyConfigured" not in human.stderr, human.stderr


def test_all_well_on_sqlite_and_fallback_problems_are_named(sqlite_env) -> None:
    """SQLite, migrated: exit 0. A fallback asked for that cannot work is a failure naming the
    variable, never its value."""
    outcome = run_diagnose(**sqlite_env)
    assert outcome.code == 0 and outcome.report["ok"] is True, outcome.text
    assert "[ OK ] fallback admin: disabled" in outcome.text

    broken_hash = "$2b$12$" + "x" * 20
    outcome = run_diagnose(**sqlite_env, ALLOW_FALLBACK_LOGIN="true", ADMIN_USERNAME="admin",
                           ADMIN_PASSWORD_HASH=broken_hash)
    assert outcome.code == 1 and outcome.report["ok"] is False, outcome.text  # asked for, and it cannot work
    fallback = next(c for c in outcome.report["checks"] if c["check"] == "fallback admin")
    assert fallback["status"] == "fail" and fallback["cause"] == "fallback_misconfigured"
    assert "ADMIN_PASSWORD_HASH" in fallback["summary"] and broken_hash not in outcome.text
    assert "generate_bcrypt_hash.py" in fallback["action"]
