"""Read the runbook and the workflows the way the tests check them.

- `runnable_blocks`: the shell blocks of docs/RUNBOOK.md marked `<!-- runs-here ... -->`.
- `az_commands`: every `az ...` command in the runbook and the workflows, with its flags.

Run as a script with an installed Azure CLI to refresh tests/data/az_flags.json:
    python -m tests.support.docs /path/to/az
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = ROOT / "docs/RUNBOOK.md"
WORKFLOWS = ROOT / ".github/workflows"
AZ_FLAGS = ROOT / "tests/data/az_flags.json"

MARKER = re.compile(r"<!--\s*runs-here(?P<server>:\s*server)?(?P<attrs>[^>]*?)\s*-->\s*\n```sh\n(?P<body>.*?)```",
                    re.DOTALL)


@dataclass
class Block:
    line: int
    body: str
    server: bool = False
    exit: int = 0
    expect: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        first = self.body.strip().splitlines()[0]
        return f"line {self.line}: {first[:60]}"


def runnable_blocks(text: str | None = None) -> list[Block]:
    text = RUNBOOK.read_text() if text is None else text
    blocks = []
    for match in MARKER.finditer(text):
        block = Block(text[: match.start()].count("\n") + 1, match.group("body"), bool(match.group("server")))
        for token in shlex.split(match.group("attrs")):
            key, _, value = token.partition("=")
            if key == "exit":
                block.exit = int(value)
            elif key == "expect":
                block.expect.append(value)
            elif key == "needs":
                block.needs += value.split(",")
            else:
                raise ValueError(f"runs-here at line {block.line}: unknown attribute {key!r}")
        blocks.append(block)
    return blocks


def workflow(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    if True in data:  # YAML 1.1 reads the key `on` as the boolean true
        data["on"] = data.pop(True)
    return data


def workflow_scripts() -> dict[str, str]:
    """`run:` scripts of every workflow, keyed by `file: job/step`."""
    scripts = {}
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for job_name, job in workflow(path.name).get("jobs", {}).items():
            for index, step in enumerate(job.get("steps", [])):
                if "run" in step:
                    scripts[f"{path.name}: {job_name}/{step.get('name', index)}"] = step["run"]
    return scripts


AZ = re.compile(r"(?<![\w/.-])az((?:\s+[a-z][a-z-]*)+)(?P<rest>[^\n|;&)`]*)")
FLAG = re.compile(r"(?<!\S)(--[a-z][a-z0-9-]*|-[a-zA-Z])(?=[\s=]|$)")


def az_commands() -> list[tuple[str, str, list[str]]]:
    """(where, command path, flags used) for each az command in the runbook and workflows."""
    sources = {"docs/RUNBOOK.md": RUNBOOK.read_text(), **workflow_scripts()}
    found = []
    for where, text in sources.items():
        text = text.replace("\\\n", " ")
        for match in AZ.finditer(text):
            path = " ".join(match.group(1).split())
            found.append((where, path, FLAG.findall(match.group("rest"))))
    return found


def capture(az: str) -> dict[str, dict[str, list[str]]]:
    """Each command's accepted and deprecated flags, from `az <command> --help`."""
    table = {}
    for path in sorted({path for _, path, _ in az_commands()}):
        help_text = subprocess.run([az, *path.split(), "--help"], capture_output=True, text=True, timeout=120).stdout
        flags, deprecated = set(), set()
        for line in help_text.splitlines():
            match = re.match(r"^\s{4}(--[a-z0-9-]+)((?:\s+-[a-zA-Z])*)\s*(\[Deprecated\])?", line)
            if match:
                names = [match.group(1), *match.group(2).split()]
                (deprecated if match.group(3) else flags).update(names)
        if not flags:
            raise SystemExit(f"`az {path} --help` lists no flags: not a command?")
        table[path] = {"flags": sorted(flags), "deprecated": sorted(deprecated)}
    return table


if __name__ == "__main__":
    version = subprocess.run([sys.argv[1], "version", "--output", "tsv"], capture_output=True, text=True).stdout
    data = {"azure-cli": version.split()[0], "commands": capture(sys.argv[1])}
    AZ_FLAGS.parent.mkdir(exist_ok=True)
    AZ_FLAGS.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {AZ_FLAGS.relative_to(ROOT)}: {len(data['commands'])} commands")
