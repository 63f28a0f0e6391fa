"""The container image, proved as far as a machine without a Docker engine allows.

`tests/support/dockerfile.py` replays the Dockerfile's steps in a fresh directory
(a fresh virtualenv with exactly what it installs, its collectstatic, its
environment), then the image's exact ENTRYPOINT + CMD is started as an unprivileged
system user that cannot write the application's files, against the real MariaDB.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import mysql
from tests.support.dockerfile import Image, Replayer, dockerignore_rules, ignored
from tests.support.faults import refused_port
from tests.support.servers import ROOT, SENTINEL_SECRET_KEY, free_port, request

TEST_USER = "infinityai-image"
pytestmark = pytest.mark.slow


def base_python() -> Path:
    """The host's Debian Python of the image's minor version (the base image's interpreter)."""
    match = re.search(r"^FROM python:(\d+\.\d+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert match, "the Dockerfile's base image is not python:X.Y-..."
    candidate = Path(f"/usr/bin/python{match.group(1)}")
    if not candidate.exists():
        pytest.skip(f"the image runs Python {match.group(1)}; {candidate} is not on this machine")
    return candidate


def unprivileged_user() -> pwd.struct_passwd:
    """A system user with no rights on the replayed files (created once; we are root)."""
    if os.geteuid() != 0:
        pytest.skip("serving as another user needs root (CI and this machine kind run as root)")
    try:
        return pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", TEST_USER],
                       check=False, capture_output=True)
        return pwd.getpwnam(TEST_USER)


@pytest.fixture(scope="session")
def image() -> Iterator[Image]:
    root = Path(tempfile.mkdtemp(prefix="infinityai-image-", dir="/tmp"))
    root.chmod(0o755)
    try:
        yield Replayer(ROOT, root, base_python(), {"APP_VERSION": "image-test"}).run()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def image_env(image: Image, **platform: str) -> dict[str, str]:
    """The image's environment plus what the platform adds (App Service passes app settings as variables)."""
    return {**image.env, "HOME": str(image.workdir), "SECRET_KEY": SENTINEL_SECRET_KEY, **platform}


def start(image: Image, user: pwd.struct_passwd, env: dict[str, str], command: list[str] | None = None,
          log: Path | None = None) -> subprocess.Popen:
    out = open(log, "wb") if log else subprocess.PIPE
    return subprocess.Popen(command or image.command, cwd=image.workdir, env=env, user=user.pw_uid,
                            group=user.pw_gid, extra_groups=[], stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_ready(port: int, proc: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the image's command exited {proc.returncode}:\n{log.read_text()}"
        try:
            if request(port, "GET", "/ready", timeout=2).status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"not ready in {seconds}s:\n{log.read_text()}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def test_dockerfile_shape(image: Image) -> None:
    """Non-root numeric user, port 8000, a HEALTHCHECK without curl, Debian packages present here."""
    assert image.user.split(":")[0] not in ("root", "0") and image.user.split(":")[0].isdigit()
    assert image.expose == ["8000"] and image.env["APP_PORT"] == "8000"
    assert image.env["ENV_FILE"] == "" and image.env["APP_VERSION"] == "image-test"
    assert image.healthcheck[0] == "python" and "curl" not in " ".join(image.healthcheck)
    assert image.cmd == ["gunicorn", "-c", "gunicorn.conf.py"]
    needed = {"build-essential", "default-libmysqlclient-dev", "libmariadb3", "ca-certificates"}
    assert needed <= set(image.apt_packages)
    for package in image.apt_packages:
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
        assert status.stdout == "install ok installed", f"{package} (named in the Dockerfile) is not installed here"
    # The image holds no secrets, history or local databases, and gets the manifest collectstatic wrote.
    assert not [p for p in image.copied if re.search(r"(^|/)(\.env($|\.(?!example))|\.git/|.*\.sqlite3$)", p)]
    assert (image.workdir / "staticfiles/staticfiles.json").is_file()


@pytest.mark.parametrize(("path", "excluded"), [
    (".env", True), (".env.production", True), (".env.example", False), (".git/config", True),
    ("db.sqlite3", True), ("sub/dir/x.sqlite3", True), (".venv/bin/python", True),
    ("node_modules/x/y.js", True), ("package-lock.json", True), ("health/__pycache__/x.pyc", True),
    ("staticfiles/admin/x.css", True),
    ("manage.py", False), ("gunicorn.conf.py", False), ("docker/entrypoint.sh", False),
    ("requirements/production.txt", False), ("scripts/poll_health.sh", False),
])
def test_dockerignore(path: str, excluded: bool) -> None:
    """Secrets, history and local state stay out of the image; what it runs stays in."""
    assert ignored(path, dockerignore_rules(ROOT)) is excluded


def test_image_serves_as_non_root_user(image: Image, mysql_env: dict[str, str], tmp_path: Path) -> None:
    """The exact ENTRYPOINT + CMD, as an unprivileged user: /ready, /health connected, admin CSS cached for long."""
    user = unprivileged_user()
    port = free_port()
    log = tmp_path / "image.log"
    proc = start(image, user, image_env(image, APP_PORT=str(port), **mysql_env), log=log)
    try:
        wait_ready(port, proc, log)
        assert request(port, "GET", "/ready").json()["status"] == "ready"
        health = request(port, "GET", "/health").json()
        assert health["database"] == "connected" and health["version"] == "image-test"

        page = request(port, "GET", "/admin/login/")
        assert page.status == 200
        css = re.search(rb'href="(/static/admin/css/[^"]+\.[0-9a-f]{12}\.css)"', page.body)
        assert css, "admin CSS is not served under a hashed name (collectstatic manifest missing?)"
        reply = request(port, "GET", css.group(1).decode())
        assert reply.status == 200 and reply.header("Content-Type").startswith("text/css")
        max_age = int(re.search(r"max-age=(\d+)", reply.header("Cache-Control")).group(1))
        assert max_age >= 365 * 24 * 3600

        # HEALTHCHECK, run as the image would: healthy while serving.
        check = subprocess.run(image.healthcheck, env=image_env(image, APP_PORT=str(port)), user=user.pw_uid,
                               group=user.pw_gid, extra_groups=[], cwd=image.workdir, timeout=10)
        assert check.returncode == 0

        # The entrypoint exec'd gunicorn: the process started is the server and stops on SIGTERM.
        assert b"gunicorn" in Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(30) == 0
        check = subprocess.run(image.healthcheck, env=image_env(image, APP_PORT=str(port)), user=user.pw_uid,
                               group=user.pw_gid, extra_groups=[], cwd=image.workdir, timeout=10)
        assert check.returncode == 1
    finally:
        stop(proc)
    text = log.read_text()
    assert SENTINEL_SECRET_KEY not in text and "Traceback" not in text


def test_entrypoint_migrates_on_start(image: Image, tmp_path: Path) -> None:
    """MIGRATE_ON_START=true: waits for the database, migrates an empty one, then runs the command."""
    reason = mysql.unavailable_reason()
    if reason:
        pytest.skip(reason)
    user = unprivileged_user()
    name = mysql.create_database("test_iai_image")
    try:
        env = image_env(image, MIGRATE_ON_START="TRUE", WAIT_FOR_DB_TIMEOUT="20", **mysql.env_for(name))
        command = [*image.entrypoint, "python", "manage.py", "migrate", "--check"]
        proc = start(image, user, env, command)
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out.decode()
        assert b"database connected" in out and b"Applying accounts." in out
    finally:
        mysql.drop_database(name)


def test_entrypoint_does_not_migrate_without_a_database(image: Image) -> None:
    """MIGRATE_ON_START=true and no database within WAIT_FOR_DB_TIMEOUT: exit 1, the command never runs."""
    user = unprivileged_user()
    env = image_env(image, MIGRATE_ON_START="true", WAIT_FOR_DB_TIMEOUT="2", DB_HOST="127.0.0.1",
                    DB_PORT=str(refused_port()), DB_SSL_DISABLED="true")
    proc = start(image, user, env, [*image.entrypoint, "echo", "COMMAND-RAN"])
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert b"not starting" in out and b"COMMAND-RAN" not in out


@pytest.mark.parametrize(("env", "expected"), [
    ({"MIGRATE_ON_START": "maybe"}, b"MIGRATE_ON_START: 'maybe' is not a boolean"),
    ({"WAIT_FOR_DB_TIMEOUT": "soon"}, b"WAIT_FOR_DB_TIMEOUT: 'soon' is not a whole number"),
    ({"MIGRATE_ON_START": "on", "WAIT_FOR_DB_TIMEOUT": "1", "DB_HOST": "127.0.0.1", "DB_SSL_DISABLED": "true"},
     b"did not answer within 1s: not starting"),
    ({}, b"COMMAND-RAN"),
    # Without a migration the service starts even if the database never answers.
    ({"WAIT_FOR_DB_TIMEOUT": "1", "DB_HOST": "127.0.0.1", "DB_SSL_DISABLED": "true"}, b"starting without"),
])
def test_entrypoint_settings(image: Image, env: dict[str, str], expected: bytes) -> None:
    """A bad boolean stops the start naming the variable; the default runs the command at once."""
    user = unprivileged_user()
    if "DB_HOST" in env:
        env = {**env, "DB_PORT": str(refused_port())}
    proc = start(image, user, image_env(image, **env), [*image.entrypoint, "echo", "COMMAND-RAN"])
    out, _ = proc.communicate(timeout=60)
    assert expected in out, out.decode()
    assert proc.returncode == (2 if b" is not " in expected else 1 if b"not starting" in expected else 0)


def test_replay_uses_the_images_python() -> None:
    """The replay's interpreter is the image's minor version, not whatever runs pytest."""
    python = base_python()
    version = subprocess.run([str(python), "-c", "import sys; print(sys.version_info[:2])"], capture_output=True,
                             text=True).stdout
    assert python.name.removeprefix("python") in version.replace(", ", ".").strip("()\n")
    assert sys.executable != str(python)


DOCKER_SHIM = '''#!{python}
"""A stand-in for the docker CLI that runs the replayed image: just enough for docker/smoke_test.sh."""
import json, os, signal, subprocess, sys
spec = json.load(open(os.environ["SHIM_SPEC"]))
state = spec["state"]
args = sys.argv[1:]
if args[0] == "run":
    env, port = dict(spec["env"]), None
    i = 1
    while i < len(args):
        if args[i] == "-e":
            key, _, value = args[i + 1].partition("=")
            env[key] = value
            i += 2
        elif args[i] in ("-p", "--name"):
            if args[i] == "-p":
                port = args[i + 1].split(":")[1]
            i += 2
        elif args[i] == "-d":
            i += 1
        else:
            break
    env["APP_PORT"] = port  # what -p HOST:8000 achieves: the server reachable on the host port
    log = open(state + ".log", "wb")
    proc = subprocess.Popen(spec["command"], cwd=spec["cwd"], env=env, user=spec["uid"], group=spec["gid"],
                            extra_groups=[], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    open(state, "w").write(str(proc.pid))
    print("container-id")
elif args[0] == "exec":
    print(spec["uid"])
elif args[0] == "logs":
    sys.stdout.write(open(state + ".log").read() if os.path.exists(state + ".log") else "")
elif args[0] == "rm":
    if os.path.exists(state):
        try:
            os.killpg(int(open(state).read()), signal.SIGTERM)
        except ProcessLookupError:
            pass
elif args[0] == "inspect":
    sys.exit(1)
'''


def test_smoke_script_passes_against_the_replayed_image(image: Image, tmp_path: Path) -> None:
    """docker/smoke_test.sh (the deploy workflow's check of the real image) passes against the replay.

    A stand-in `docker` runs the replayed image's command as the unprivileged user, so the
    script's own checks (ready, health, non-root, hashed CSS with a long cache lifetime) run for real.
    """
    user = unprivileged_user()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "docker"
    shim.write_text(DOCKER_SHIM.format(python=sys.executable))
    shim.chmod(0o755)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"state": str(tmp_path / "container"), "command": image.command,
                                "cwd": str(image.workdir), "env": image_env(image), "uid": user.pw_uid,
                                "gid": user.pw_gid}))
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "SHIM_SPEC": str(spec)}
    result = subprocess.run(["bash", str(ROOT / "docker/smoke_test.sh"), "infinityai-backend:test"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "smoke test: passed" in result.stdout and '"status": "degraded"' in result.stdout.replace('":"', '": "')
