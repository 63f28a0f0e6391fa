"""Configuration: literal values, strict types, and one message naming every problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from infinityai.config import VARIABLES, ConfigError, load, render_env_example, render_markdown
from tests.support.servers import BIN, ROOT, free_port, manage, service_env

BCRYPT_HASH = "$2b$12$KIXQJzQ1bQ8m5Xr6Q9yVbeq3p1jvYw8y3h0p0n8cJ6Xq5r7Yh2F7e"
DOLLAR_VALUES = {"ADMIN_PASSWORD_HASH": BCRYPT_HASH, "DB_PASSWORD": "$ecret$HOME$",
                 "SECRET_KEY": "$SECRET_KEY$-long-enough-for-a-signing-key"}
BASE = {"SECRET_KEY": "k" * 32, "ENV_FILE": ""}


def problems(**env: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load({**BASE, **env})
    return caught.value.problems


@pytest.mark.parametrize(("raw", "expected"), [("True", True), ("false", False), ("1", True), ("0", False),
                                                ("yes", True), ("NO", False), (" on ", True)])
def test_booleans_accept_the_usual_words(raw: str, expected: bool) -> None:
    """true/false, 1/0, yes/no in any case are booleans."""
    assert load({**BASE, "DEBUG": raw}).DEBUG is expected


@pytest.mark.parametrize("raw", ["ture", "abc", "2", "enabled"])
def test_a_word_that_is_not_a_boolean_stops_the_start(raw: str) -> None:
    """A typo is an error naming the variable and the value, not a silent false."""
    (problem,) = problems(DB_SSL_DISABLED=raw)
    assert problem.startswith("DB_SSL_DISABLED:") and repr(raw) in problem


def test_numbers_that_do_not_parse_are_named() -> None:
    found = problems(DB_PORT="33o6", HEALTH_DB_TIMEOUT="fast")
    assert any(p.startswith("DB_PORT: '33o6'") for p in found)
    assert any(p.startswith("HEALTH_DB_TIMEOUT: 'fast'") for p in found)


def test_every_problem_is_named_in_one_message() -> None:
    """An operator fixes everything in one redeploy, not one crash at a time."""
    env = {"DEBUG": "ture", "DB_HOST": "db.example", "DB_NAME": "mysql",
           "CORS_ALLOW_ORIGINS": "https://ok.example,infinityai.pro", "DB_SSL_CA": "/nonexistent/ca.pem",
           "SECRET_KEY": ""}
    with pytest.raises(ConfigError) as caught:
        load({**BASE, **env})
    message = str(caught.value)
    for name in ("DEBUG", "DB_NAME", "CORS_ALLOW_ORIGINS", "DB_SSL_CA", "SECRET_KEY"):
        assert f"{name}:" in message
    assert "'infinityai.pro'" in message


def test_secret_key_is_required_when_debug_is_off() -> None:
    assert problems(SECRET_KEY="")[0].startswith("SECRET_KEY: required")
    assert load({"ENV_FILE": "", "DEBUG": "true"}).DEBUG is True


@pytest.mark.parametrize("blank", [" ", "\t", "  \n"])
def test_a_blank_secret_key_is_a_missing_one(blank: str) -> None:
    assert problems(SECRET_KEY=blank)[0].startswith("SECRET_KEY: required")


def test_a_short_secret_key_cannot_make_the_token_key() -> None:
    """The derived token key is no stronger than SECRET_KEY: it is held to TOKEN_SIGNING_KEY's 32."""
    (problem,) = problems(SECRET_KEY="short-secret")
    assert problem.startswith("SECRET_KEY: (value hidden) is shorter than 32") and "short-secret" not in problem
    assert load({**BASE, "SECRET_KEY": "short-secret", "TOKEN_SIGNING_KEY": "t" * 32}).SECRET_KEY == "short-secret"


@pytest.mark.parametrize(("entry", "why"), [("https://api.example.com/", "has a scheme"),
                                            ("api.example.com/", "has a path"),
                                            ("api.example.com api2.example.com", "contains a space")])
def test_allowed_hosts_entries_are_host_names(entry: str, why: str) -> None:
    (problem,) = problems(ALLOWED_HOSTS=f"localhost,{entry}")
    assert problem == f"ALLOWED_HOSTS: entry {entry!r} {why}; " + problem.split("; ", 1)[1]
    assert load({**BASE, "ALLOWED_HOSTS": ".example.com,*,[::1],api.example.com"}).ALLOWED_HOSTS


@pytest.mark.parametrize("url", ["127.0.0.1:6380,password=sentinel-pw,ssl=True", "notaurl", "http://127.0.0.1:6379",
                                 "redis://127.0.0.1,sentinel-pw"])
def test_redis_url_must_be_a_redis_url_and_is_never_shown(url: str) -> None:
    (problem,) = problems(REDIS_URL=url)
    assert problem.startswith("REDIS_URL: (value hidden) is not a redis://")
    assert "sentinel-pw" not in problem and url not in problem


@pytest.mark.parametrize(("url", "why"), [
    ("redis://:sentinel-pw@127.0.0.1:notaport/0", "has a port that is not a TCP port"),
    ("rediss://:sentinel-pw@127.0.0.1:99999/0", "has a port that is not a TCP port"),
    ("redis://:sentinel-pw@127.0.0.1:0/0", "has a port that is not a TCP port"),
    ("redis://:sentinel-pw@127.0.0.1:6379/notadb", "names a database that is not a number"),
    ("unix:///run/redis.sock?db=x&password=sentinel-pw", "names a database that is not a number"),
])
def test_redis_url_parts_redis_py_would_reject_at_the_first_sign_in(url: str, why: str) -> None:
    """redis-py raises these only when the cache is first used: every sign-in would be a 500."""
    (problem,) = problems(REDIS_URL=url)
    assert problem.startswith(f"REDIS_URL: (value hidden) {why}"), problem
    assert "sentinel-pw" not in problem


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "rediss://:pw@cache.example:6380/0",
                                 "unix:///run/redis.sock", "REDIS://127.0.0.1", "redis://127.0.0.1:6379/0?db=2",
                                 "unix:///run/redis.sock?db=3"])
def test_redis_urls_that_redis_py_reads_are_accepted(url: str) -> None:
    assert load({**BASE, "REDIS_URL": url}).REDIS_URL == url


def test_plaintext_admin_password_needs_explicit_consent_and_is_never_shown() -> None:
    (problem,) = problems(ADMIN_PASSWORD="hunter2-sentinel")
    assert problem.startswith("ADMIN_PASSWORD:") and "hunter2-sentinel" not in problem
    config = load({**BASE, "ADMIN_PASSWORD": "hunter2-sentinel", "ADMIN_ALLOW_PLAINTEXT": "true"})
    assert any("ADMIN_PASSWORD" in w for w in config.warnings)


def test_system_schema_is_refused_only_for_mysql() -> None:
    assert problems(DB_HOST="h", DB_NAME="MySQL")[0].startswith("DB_NAME:")
    assert load({**BASE, "DB_NAME": "mysql"}).uses_mysql is False


def test_cors_origins_are_normalised() -> None:
    config = load({**BASE, "CORS_ALLOW_ORIGINS": " 'https://infinityai.pro/' ,\"https://www.infinityai.pro\", "})
    assert config.CORS_ALLOW_ORIGINS == ["https://infinityai.pro", "https://www.infinityai.pro"]


def test_values_starting_with_dollar_arrive_byte_for_byte() -> None:
    """django-environ would read `$2b$...` as a reference to a variable named `2b$...`."""
    config = load({**BASE, **DOLLAR_VALUES})
    for name, value in DOLLAR_VALUES.items():
        assert getattr(config, name) == value


def test_dollar_values_from_the_real_environment() -> None:
    code = ("from infinityai.config import load; c = load(); "
            "print(repr((c.ADMIN_PASSWORD_HASH, c.DB_PASSWORD, c.SECRET_KEY)))")
    env = service_env(**DOLLAR_VALUES)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.stdout.strip() == repr(tuple(DOLLAR_VALUES.values())), out.stderr


def test_dollar_values_from_a_dotenv_file(tmp_path: Path) -> None:
    dotenv = tmp_path / "app.env"
    dotenv.write_text(
        f"ADMIN_PASSWORD_HASH={BCRYPT_HASH}\n"
        "DB_PASSWORD='$ecret$HOME$'\n"
        f'SECRET_KEY="{DOLLAR_VALUES["SECRET_KEY"]}"\n'
        "DEBUG=yes\n"
    )
    config = load({"ENV_FILE": str(dotenv), "DEBUG": "false"})
    for name, value in DOLLAR_VALUES.items():
        assert getattr(config, name) == value
    assert config.DEBUG is False  # the real environment wins over the file


def test_generated_documents_are_current() -> None:
    """docs/CONFIGURATION.md and .env.example come from the declarations (make configdocs)."""
    assert (ROOT / "docs" / "CONFIGURATION.md").read_text() == render_markdown()
    assert (ROOT / ".env.example").read_text() == render_env_example()
    for var in VARIABLES:
        assert f"`{var.name}`" in render_markdown() and f"# {var.name}=" in render_env_example()


BAD_START = {"DEBUG": "ture", "DB_HOST": "127.0.0.1", "DB_NAME": "mysql", "DB_PASSWORD": "pw-sentinel-77",
             "CORS_ALLOW_ORIGINS": "infinityai.pro", "DB_SSL_CA": "/nonexistent.pem", "SECRET_KEY": None}


@pytest.mark.parametrize("command", ["manage", "gunicorn"])
def test_bad_settings_stop_the_start_with_one_clear_message(command: str) -> None:
    env = service_env(**BAD_START, APP_PORT=str(free_port()))
    if command == "manage":
        result = manage(env, "check", timeout=60)
    else:
        result = subprocess.run([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    for name in ("DEBUG", "DB_NAME", "CORS_ALLOW_ORIGINS", "DB_SSL_CA", "SECRET_KEY"):
        assert f"{name}:" in output
    assert "Traceback" not in output and "pw-sentinel-77" not in output


def test_malformed_dotenv_line_is_named_by_file_and_line_never_shown(tmp_path: Path) -> None:
    """`SECRET_KEY = value` (spaces around '='): the start stops naming the file and line; the value
    appears nowhere (django-environ's reader would log 'Invalid line: <the whole line>')."""
    secret = "dotenv-sentinel-9b1c4e7f2a"
    dotenv = tmp_path / "app.env"
    dotenv.write_text(f"# development settings\nDEBUG=true\n\nSECRET_KEY = {secret}\nLOG_FORMAT=console\n")
    env = service_env(ENV_FILE=str(dotenv), SECRET_KEY=None)
    for args in (("check",), ("diagnose",)):
        result = manage(env, *args, timeout=60)
        output = result.stdout + result.stderr
        assert result.returncode != 0, output
        assert f"ENV_FILE {dotenv} line 4: not NAME=value (value hidden)" in output, output
        assert "SECRET_KEY=... with no spaces around '='" in output
        assert secret not in output and "Invalid line" not in output
    # The well-formed lines around it are still read as before.
    dotenv.write_text("DEBUG=true\nLOG_FORMAT=console\n")
    assert manage(env, "check", timeout=60).returncode == 0


def test_sqlite_path_in_a_missing_folder_stops_the_start(tmp_path) -> None:
    """SQLite creates its file but not the folder: without this every request would find no database."""
    (problem,) = problems(SQLITE_PATH=str(tmp_path / "missing" / "db.sqlite3"))
    assert problem.startswith(f"SQLITE_PATH: {str(tmp_path / 'missing')!r} is not an existing folder"), problem
    assert load({**BASE, "SQLITE_PATH": str(tmp_path / "db.sqlite3")}).SQLITE_PATH
    assert load({**BASE, "SQLITE_PATH": str(tmp_path / "missing" / "x"), "DB_HOST": "db.example"}).DB_HOST


def test_a_ca_file_without_a_certificate_stops_the_start(tmp_path) -> None:
    """Not a PEM bundle (a wrong path that happens to exist): the TLS error at the first
    connection would name the database, not the variable."""
    wrong = tmp_path / "not-a-ca.txt"
    wrong.write_text("root:x:0:0:root:/root:/bin/bash\n")
    garbled = tmp_path / "garbled.pem"
    garbled.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    for path in (wrong, garbled):
        (problem,) = problems(DB_SSL_CA=str(path))
        assert problem == (f"DB_SSL_CA: file {str(path)!r} holds no PEM certificate that can be read "
                           "(-----BEGIN CERTIFICATE-----)")
    assert load({**BASE, "DB_SSL_CA": "/etc/ssl/certs/ca-certificates.crt"}).DB_SSL_CA


def test_an_env_file_named_outright_must_exist(tmp_path) -> None:
    (problem,) = problems(ENV_FILE=str(tmp_path / "missing.env"))
    assert problem.startswith(f"ENV_FILE: {str(tmp_path / 'missing.env')!r} does not exist"), problem
    assert load({**BASE, "ENV_FILE": ""}).DEBUG is False  # empty: read no file


def test_tls_settings_that_tls_off_ignores_are_a_warning() -> None:
    config = load({**BASE, "DB_HOST": "db.example", "DB_NAME": "app", "DB_SSL_DISABLED": "true",
                   "DB_SSL_VERIFY": "true"})
    assert "DB_SSL_VERIFY and DB_SSL_CA have no effect with DB_SSL_DISABLED=true" in config.warnings


def test_instance_cache_dir_must_be_a_folder_of_the_services_own(tmp_path) -> None:
    """Its entries are pickles, read back as code would be: a folder others may write to
    would let them run code as the service."""
    import os

    afile = tmp_path / "afile"
    afile.write_text("")
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    cases = {str(afile): "is not a folder", str(afile / "sub"): "cannot be made: its parent is not an existing folder",
             str(shared): "is writable by other users"}
    if os.geteuid() == 0:
        foreign = tmp_path / "foreign"
        foreign.mkdir(mode=0o700)
        os.chown(foreign, 65534, 65534)
        cases[str(foreign)] = "belongs to another user"
    for value, why in cases.items():
        (problem,) = problems(INSTANCE_CACHE_DIR=value)
        assert problem.startswith(f"INSTANCE_CACHE_DIR: {value!r} {why}"), problem
    assert load({**BASE, "INSTANCE_CACHE_DIR": str(tmp_path / "new")}).INSTANCE_CACHE_DIR


def test_a_cache_folder_that_cannot_be_written_stops_gunicorn_with_one_message() -> None:
    """/proc: a folder of root's, not writable by others, where nothing can be created."""
    env = service_env(INSTANCE_CACHE_DIR="/proc/infinityai-cache", APP_PORT=str(free_port()))
    result = subprocess.run([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2, result.stderr
    assert "INSTANCE_CACHE_DIR: '/proc/infinityai-cache' cannot be written to" in result.stderr
    assert "Traceback" not in result.stderr


def test_sqlite_path_that_is_a_folder_is_named(tmp_path) -> None:
    (problem,) = problems(SQLITE_PATH=str(tmp_path))
    assert problem == f"SQLITE_PATH: {str(tmp_path)!r} is a folder; name the database file in it"


def test_commands_that_sign_nothing_run_without_a_secret_key() -> None:
    """`makemigrations --check` on a fresh clone, with nothing set; a command that may
    sign (here `check`, as the server would) still stops and names SECRET_KEY."""
    env = service_env(SECRET_KEY=None)
    result = manage(env, "makemigrations", "--check", "--dry-run")
    assert result.returncode == 0 and "No changes detected" in result.stdout, result.stdout + result.stderr
    refused = manage(env, "check")
    assert refused.returncode == 2 and "SECRET_KEY: required when DEBUG is off" in refused.stderr
