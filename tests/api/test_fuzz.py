"""schemathesis against a real server, on the schema the server publishes.

Every check schemathesis has: no 5xx whatever the input, every response (status,
headers, content type, body) as the schema documents it, invalid input refused
with a 4xx, undocumented methods answered 405 with Allow. The suite runs a bounded
number of cases per operation; `make fuzz` runs many more (FUZZ_EXAMPLES).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.accounts import ADMIN, ADMIN_PASSWORD, assert_tokens, fallback_env, login
from tests.support.servers import ROOT

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
REPORTS = ROOT / "test-output" / "fuzz"


@pytest.mark.slow
def test_fuzzing_finds_no_server_error_and_no_schema_violation(module_serve, tmp_path: Path) -> None:
    server = module_serve(CORS_ALLOW_ORIGINS="https://www.infinityai.pro", BCRYPT_ROUNDS="4", **fallback_env())
    # A real bearer token, so the authenticated routes are fuzzed past their 401.
    token = assert_tokens(login(server, ADMIN, ADMIN_PASSWORD))["access_token"]
    REPORTS.mkdir(parents=True, exist_ok=True)
    command = [
        str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(ROOT / "schemathesis.toml"),
        "run", f"http://127.0.0.1:{server.port}/api/schema",
        "--header", f"Authorization: Bearer {token}",
        "--checks", "all", "--max-examples", str(EXAMPLES), "--workers", "1",
        "--request-timeout", "10", "--generation-database", "none", "--no-color",
        "--report", "junit", "--report-junit-path", str(REPORTS / "junit.xml"),
        # These two answer only to credentials the fuzzer cannot hold (a staff bearer token;
        # METRICS_TOKEN, which would go to every operation); tests/test_metrics.py and
        # tests/test_diagnostics_view.py test their answers.
        "--exclude-operation-id", "ops_diagnostics", "--exclude-operation-id", "metrics",
    ]
    # cwd: schemathesis keeps replay files in the working directory.
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    assert "No issues found" in output, output[-5000:]
