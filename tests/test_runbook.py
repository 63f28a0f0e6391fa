"""Every docs/RUNBOOK.md shell block marked `<!-- runs-here -->` does what the runbook says.

The server is started by the runbook's own `runs-here: server` block (`make run`),
on a free port, against this run's MariaDB database, with the settings an operator
would have exported: a fallback admin `admin` whose password is `YourPassword`, a
metrics token and the production CORS origins. Each other block then runs in bash
(strict mode) with that environment, `localhost:8000` replaced by the server's
address; its exit status and the text the runbook promises are checked. A block
whose `needs=` file is not in the tree yet is skipped, naming the file.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest

from tests.support import mysql
from tests.support.docs import Block, runnable_blocks
from tests.support.servers import ROOT, SENTINEL_SECRET_KEY, free_port, request, service_env

pytestmark = [pytest.mark.slow, pytest.mark.mysql]

BLOCKS = runnable_blocks()
METRICS_TOKEN = "runbook-metrics-token-7c1e"


@pytest.fixture(scope="module")
def operator_env(mysql_database: str) -> dict[str, str]:
    password_hash = bcrypt.hashpw(b"YourPassword", bcrypt.gensalt()).decode()
    return service_env(**mysql.env_for(mysql_database), METRICS_TOKEN=METRICS_TOKEN,
                       ALLOW_FALLBACK_LOGIN="true", ADMIN_USERNAME="admin", ADMIN_PASSWORD_HASH=password_hash,
                       CORS_ALLOW_ORIGINS="https://infinityai.pro,https://www.infinityai.pro",
                       PYTHONDONTWRITEBYTECODE="1")


@pytest.fixture(scope="module")
def runbook_server(operator_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The runbook's server block, run as written, on a free port; yields 'host:port'."""
    (server_block,) = [b for b in BLOCKS if b.server]
    port = free_port()
    log_path = tmp_path_factory.mktemp("runbook") / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(["bash", "-euo", "pipefail", "-c", server_block.body], cwd=ROOT,
                                env={**operator_env, "APP_PORT": str(port)}, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 120  # bootstrap (installed already), migrate, collectstatic
        while True:
            assert proc.poll() is None, f"`{server_block.body.strip()}` exited:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, f"not ready in 120 s:\n{log_path.read_text()}"
            try:
                if request(port, "GET", "/ready", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.3)
        yield f"127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
    assert SENTINEL_SECRET_KEY not in log_path.read_text()


@pytest.mark.parametrize("block", [b for b in BLOCKS if not b.server], ids=lambda b: b.name)
def test_runbook_block(block: Block, runbook_server: str, operator_env: dict[str, str]) -> None:
    missing = [need for need in block.needs if not (ROOT / need).exists()]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}, which is not in this tree yet")
    script = block.body.replace("localhost:8000", runbook_server)
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=operator_env,
                            capture_output=True, text=True, timeout=90)
    output = result.stdout + result.stderr
    assert result.returncode == block.exit, f"exit {result.returncode}, runbook says {block.exit}:\n{output}"
    for text in block.expect:
        assert text in output, f"the runbook promises {text!r}; the block printed:\n{output}"
    assert SENTINEL_SECRET_KEY not in output


def test_runbook_has_the_blocks_it_promises() -> None:
    """The markers parse, one block starts the server, and the local checks of each section are there."""
    assert [b.body.strip() for b in BLOCKS if b.server] == ["make run"]
    bodies = "\n".join(b.body for b in BLOCKS)
    for command in ("/ready", "/health", "scripts/poll_health.sh", "manage.py diagnose", "manage.py wait_for_db",
                    "scripts/generate_bcrypt_hash.py", "/login", "/metrics", "Access-Control-Request-Method"):
        assert command in bodies, command
    text = (ROOT / "docs/RUNBOOK.md").read_text()
    markers = re.findall(r"^<!-- runs-here", text, re.MULTILINE)
    assert len(markers) == len(BLOCKS), "a runs-here marker is not directly before a ```sh block"


def test_marker_parsing() -> None:
    """Attributes are read exactly; an unknown one is an error, not silently ignored."""
    (block,) = runnable_blocks('<!-- runs-here exit=1 expect="a b" needs=x,y -->\n```sh\necho hi\n```\n')
    assert (block.exit, block.expect, block.needs, block.body) == (1, ["a b"], ["x", "y"], "echo hi\n")
    with pytest.raises(ValueError, match="unknown attribute"):
        runnable_blocks("<!-- runs-here exits=1 -->\n```sh\necho hi\n```\n")


def test_readme_keeps_its_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme and "docs/RUNBOOK.md" in readme


def test_docs_exist() -> None:
    for name in ("docs/RUNBOOK.md", "docs/ARCHITECTURE.md"):
        assert (ROOT / name).stat().st_size > 2000, name
    assert Path(ROOT / "Dockerfile").is_file()


def test_section_3_quotes_what_diagnose_prints() -> None:
    """Each cause in section 3's table is in diagnose's own words (the parts between '...')."""
    from health import diagnostics
    from infinityai.config import load

    config = load({"DB_HOST": "db.example", "DB_USER": "app", "DB_NAME": "infinityai", "SECRET_KEY": "x" * 32,
                   "ENV_FILE": ""})
    summaries = [summary for summary, _ in diagnostics._causes(config).values()]
    text = (ROOT / "docs/RUNBOOK.md").read_text()
    table = re.search(r"\| `diagnose` says \| Action \|\n\|---\|---\|\n((?:\|.*\n)+)", text).group(1)
    rows = [row.split("|")[1].strip() for row in table.splitlines()]
    assert len(rows) >= 8
    for said in rows:
        pieces = [piece.strip() for piece in said.split("...") if piece.strip()]
        assert any(all(piece in summary for piece in pieces) for summary in summaries), said
