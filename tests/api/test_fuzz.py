"""schemathesis against a real server, on the schema the server publishes.

Every check schemathesis has: no 5xx whatever the input, every response (status,
headers, content type, body) as the schema documents it, invalid input refused
with a 4xx, undocumented methods answered 405 with Allow, missing credentials
refused with 401. schemathesis.toml says where a schema-valid body may still be
refused (a wrong password is the contract's 400). Signed in as the fallback admin
and holding the metrics token, it reaches every operation past its 401. The suite
runs a bounded number of cases per operation; `make fuzz` runs many more
(FUZZ_EXAMPLES).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.openapi import BearerScheme
from infinityai.openapi import METRICS_SCHEME
from tests.support.accounts import ADMIN, ADMIN_PASSWORD, assert_tokens, fallback_env, login
from tests.support.servers import ROOT

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
REPORTS = ROOT / "test-output" / "fuzz"


@pytest.mark.slow
def test_fuzzing_finds_no_server_error_and_no_schema_violation(module_serve, tmp_path: Path) -> None:
    metrics_token = secrets.token_urlsafe(24)
    server = module_serve(CORS_ALLOW_ORIGINS="https://www.infinityai.pro", BCRYPT_ROUNDS="4",
                          METRICS_TOKEN=metrics_token, **fallback_env())
    # Real credentials, so the authenticated routes are fuzzed past their 401: the fallback
    # admin's bearer token (staff: diagnostics answers), and the metrics token. Each goes
    # only to the operations whose security scheme names it (schemathesis reads the schema).
    token = assert_tokens(login(server, ADMIN, ADMIN_PASSWORD))["access_token"]
    config = tmp_path / "schemathesis.toml"
    config.write_text((ROOT / "schemathesis.toml").read_text()
                      + f'\n[auth.openapi.{BearerScheme.name}]\nbearer = "{token}"\n'
                      + f'\n[auth.openapi.{METRICS_SCHEME}]\nbearer = "{metrics_token}"\n')
    REPORTS.mkdir(parents=True, exist_ok=True)
    # --request-timeout: generous, as schemathesis reports a slower answer as a failure, and
    # speed is for `make bench`, not this test (a shared 2-core machine stalls at times).
    command = [
        str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(config),
        "run", f"http://127.0.0.1:{server.port}/api/schema",
        "--checks", "all", "--max-examples", str(EXAMPLES), "--workers", "1",
        "--request-timeout", "30", "--generation-database", "none", "--no-color",
        "--report", "junit", "--report-junit-path", str(REPORTS / "junit.xml"),
    ]
    # cwd: schemathesis keeps replay files in the working directory.
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    assert "No issues found" in output, output[-5000:]
    # Every operation was fuzzed (schemathesis leaves out the schema's own URL).
    paths = server.get("/api/schema").json()["paths"]
    expected = {f"{method.upper()} {path}" for path, item in paths.items() for method in item} - {"GET /api/schema"}
    tested = set(re.findall(r'<testcase name="([^"]+)"', (REPORTS / "junit.xml").read_text()))
    assert tested == expected
