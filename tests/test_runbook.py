"""Every docs/RUNBOOK.md shell block marked `<!-- runs-here -->` does what the runbook says.

Servers are started by the runbook's own `runs-here: server` blocks (`make run`, or
`NAME=value ... make run` where a check needs a variable: the metrics token, a CORS
origin, the fallback admin), each on a free port, against this run's MariaDB
database. Each other block runs against the server of the nearest server block
above it, in bash (strict mode) with the database settings exported and
`localhost:8000` replaced by that server's address; its exit status and the text the
runbook promises are checked. Nothing else is exported: a block that works here
works for a reader who runs the commands as written. A block whose `needs=` file is
not in the tree yet is skipped, naming the file.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import mysql
from tests.support.docs import Block, runnable_blocks
from tests.support.servers import ROOT, SENTINEL_SECRET_KEY, free_port, request, service_env, stop_group

pytestmark = [pytest.mark.slow, pytest.mark.mysql]

BLOCKS = runnable_blocks()


@pytest.fixture(scope="module")
def operator_env(mysql_database: str) -> dict[str, str]:
    return service_env(**mysql.env_for(mysql_database), PYTHONDONTWRITEBYTECODE="1")


def server_of(block: Block) -> Block:
    """The nearest server block above `block`."""
    (server, *_) = [b for b in reversed(BLOCKS) if b.server and b.line < block.line]
    return server


class RunbookServers:
    """One server at a time, started from its block as written; the previous one is
    stopped first (the runbook says to stop `make run` before starting a variant)."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env, self.folder = env, folder
        self.block: Block | None = None
        self.proc: subprocess.Popen | None = None
        self.address = ""

    def for_block(self, server_block: Block) -> str:
        if self.block is not server_block:
            self.stop()
            self.start(server_block)
        return self.address

    def start(self, block: Block) -> None:
        port = free_port()
        self.log_path = self.folder / f"server-line-{block.line}.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(["bash", "-euo", "pipefail", "-c", block.body], cwd=ROOT,
                                         env={**self.env, "APP_PORT": str(port)}, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self.block = block
        deadline = time.monotonic() + 120  # bootstrap (installed already), migrate, collectstatic
        while True:
            assert self.proc.poll() is None, f"`{block.body.strip()}` exited:\n{self.log_path.read_text()}"
            assert time.monotonic() < deadline, f"not ready in 120 s:\n{self.log_path.read_text()}"
            try:
                if request(port, "GET", "/ready", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.3)
        self.address = f"127.0.0.1:{port}"

    def stop(self) -> None:
        if self.proc is None:
            return
        stop_group(self.proc)
        self.proc = None
        assert SENTINEL_SECRET_KEY not in self.log_path.read_text()


@pytest.fixture(scope="module")
def runbook_servers(operator_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunbookServers]:
    servers = RunbookServers(operator_env, tmp_path_factory.mktemp("runbook"))
    try:
        yield servers
    finally:
        servers.stop()


@pytest.mark.parametrize("block", [b for b in BLOCKS if not b.server], ids=lambda b: b.name)
def test_runbook_block(block: Block, runbook_servers: RunbookServers, operator_env: dict[str, str]) -> None:
    missing = [need for need in block.needs if not (ROOT / need).exists()]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}, which is not in this tree yet")
    address = runbook_servers.for_block(server_of(block))
    script = block.body.replace("localhost:8000", address)
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=operator_env,
                            capture_output=True, text=True, timeout=90)
    output = result.stdout + result.stderr
    assert result.returncode == block.exit, f"exit {result.returncode}, runbook says {block.exit}:\n{output}"
    for text in block.expect:
        assert text in output, f"the runbook promises {text!r}; the block printed:\n{output}"
    assert SENTINEL_SECRET_KEY not in output


def test_runbook_has_the_blocks_it_promises() -> None:
    """The markers parse, the first block starts the plain server (variants end in `make run`),
    and the local checks of each section are there."""
    servers = [b.body.strip() for b in BLOCKS if b.server]
    assert BLOCKS[0].server and servers[0] == "make run"
    assert all(body.endswith(" make run") and "\n" not in body for body in servers[1:]), servers
    for needed in ("METRICS_TOKEN=", "CORS_ALLOW_ORIGINS=", "ALLOW_FALLBACK_LOGIN=true"):
        assert any(body.startswith(needed) for body in servers), needed
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
