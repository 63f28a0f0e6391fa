"""Replay the project's Dockerfile on the host, as far as a machine without Docker can.

No Docker engine runs here and base images cannot be pulled, so the image test
does the next best thing: it reads the Dockerfile and performs its steps itself,
with every image path (`/opt/venv`, `/app`, ...) moved under one temporary root:

- `RUN apt-get install P...`: checked, not run: each package must be installed on
  the host (the host is Debian bookworm, like the base image).
- `RUN ... useradd ...`: the user's numeric id is recorded; the test serves as an
  unprivileged system user of its own.
- every other `RUN`: executed with `/bin/sh -c` as written, paths moved, with the
  base image's Python replaced by the host's Debian Python of the same minor
  version; `--no-cache-dir` is dropped so that pip may use the local cache.
- `COPY`: the build context filtered by `.dockerignore`, or between stages.
- `ENV`, `ARG`, `WORKDIR`, `USER`, `HEALTHCHECK`, `ENTRYPOINT`, `CMD`: recorded with
  the same substitution, so the test starts the image's exact command line.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

SYSTEM_DIRS = ("usr", "bin", "sbin", "etc", "lib", "lib64", "proc", "dev", "var", "sys", "run")
# An absolute path at a word boundary whose first component is not a system directory.
IMAGE_PATH = re.compile(r"(?<![\w.$}/-])/(?!(?:" + "|".join(SYSTEM_DIRS) + r")\b)(?=[A-Za-z])")
VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)\}")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    result = []
    for line in lines:
        word, _, rest = line.partition(" ")
        result.append((word.upper(), rest.strip()))
    return result


def glob_regex(glob: str) -> re.Pattern:
    """A .dockerignore pattern as a regex: `*` and `?` stay within one path component, `**` spans any."""
    regex, i = "", 0
    while i < len(glob):
        if glob.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif glob.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif glob[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif glob[i] == "?":
            regex, i = regex + "[^/]", i + 1
        else:
            regex, i = regex + re.escape(glob[i]), i + 1
    return re.compile(regex + r"\Z")


@dataclass(frozen=True)
class IgnoreRule:
    negated: bool
    glob: str
    regex: re.Pattern


def dockerignore_rules(context: Path) -> list[IgnoreRule]:
    """The rules of `.dockerignore`, in order (the last matching rule decides)."""
    path = context / ".dockerignore"
    rules = []
    for line in (path.read_text().splitlines() if path.exists() else []):
        line = line.strip()
        if line and not line.startswith("#"):
            glob = line.lstrip("!").strip().strip("/")
            rules.append(IgnoreRule(line.startswith("!"), glob, glob_regex(glob)))
    return rules


def ignored(relative: str, rules: list[IgnoreRule]) -> bool:
    """Docker's rule: a pattern matching a path or any of its parent directories excludes it."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    verdict = False
    for rule in rules:
        if any(rule.regex.match(prefix) for prefix in prefixes):
            verdict = not rule.negated
    return verdict


def copy_context(context: Path, destination: Path) -> list[str]:
    """Copy the build context as `COPY . <destination>` would; returns the copied paths."""
    rules = dockerignore_rules(context)
    copied = []
    for dirpath, dirnames, filenames in os.walk(context):
        rel_dir = Path(dirpath).relative_to(context).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        # Skip an ignored directory whole unless a `!` rule could bring back a file inside it.
        dirnames[:] = [d for d in dirnames if not ignored(rel_dir + d, rules)
                       or any(r.negated and r.glob.startswith(rel_dir + d + "/") for r in rules)]
        for name in filenames:
            relative = rel_dir + name
            if not ignored(relative, rules):
                target = destination / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(dirpath) / name, target)
                copied.append(relative)
    return copied


@dataclass
class Image:
    """What replaying the final stage produced."""

    root: Path
    env: dict[str, str]
    workdir: Path
    user: str
    entrypoint: list[str]
    cmd: list[str]
    healthcheck: list[str]
    expose: list[str]
    apt_packages: list[str] = field(default_factory=list)
    copied: list[str] = field(default_factory=list)

    @property
    def command(self) -> list[str]:
        return [*self.entrypoint, *self.cmd]


class Replayer:
    def __init__(self, context: Path, root: Path, base_python: Path, build_args: dict[str, str]) -> None:
        self.context = context
        self.root = root
        self.base_python = base_python
        self.build_args = build_args
        # The official python image's environment, its interpreter replaced by the host's.
        self.base_env = {
            "PATH": f"{root}/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C.UTF-8",
        }
        bin_dir = root / "usr/local/bin"
        bin_dir.mkdir(parents=True, exist_ok=True)
        for name in ("python", "python3"):
            (bin_dir / name).symlink_to(base_python)

    def move(self, text: str) -> str:
        return IMAGE_PATH.sub(f"{self.root}/", text)

    @staticmethod
    def expand(text: str, env: dict[str, str]) -> str:
        return VARIABLE.sub(lambda m: env.get(m.group(1) or m.group(2), ""), text)

    def run(self) -> Image:
        env: dict[str, str] = {}
        args: dict[str, str] = {}
        workdir = self.root
        user = "root"
        entrypoint: list[str] = []
        cmd: list[str] = []
        healthcheck: list[str] = []
        expose: list[str] = []
        apt: list[str] = []
        copied: list[str] = []
        for word, rest in instructions((self.context / "Dockerfile").read_text()):
            if word == "FROM":
                env, args, workdir, user = dict(self.base_env), {}, self.root, "root"
                entrypoint, cmd, healthcheck, expose = [], [], [], []
            elif word == "ARG":
                name, _, default = rest.partition("=")
                args[name] = self.build_args.get(name, shlex.split(default)[0] if default else "")
            elif word == "ENV":
                for token in shlex.split(rest):
                    name, _, value = token.partition("=")
                    env[name] = self.expand(self.move(value), {**args, **env})
            elif word == "WORKDIR":
                workdir = Path(self.move(rest))
                workdir.mkdir(parents=True, exist_ok=True)
            elif word == "USER":
                user = rest
            elif word == "EXPOSE":
                expose += rest.split()
            elif word == "COPY":
                copied += self._copy(rest, workdir)
            elif word == "RUN":
                apt += self._run(rest, {**args, **env}, workdir)
            elif word == "HEALTHCHECK":
                healthcheck = [self.move(a) for a in json.loads(rest.split(" CMD ", 1)[1])]
            elif word == "ENTRYPOINT":
                entrypoint = [self.move(a) for a in json.loads(rest)]
            elif word == "CMD":
                cmd = [self.move(a) for a in json.loads(rest)]
            else:
                raise AssertionError(f"the replay does not know the Dockerfile instruction {word}")
        return Image(self.root, env, workdir, user, entrypoint, cmd, healthcheck, expose, apt, copied)

    def _copy(self, rest: str, workdir: Path) -> list[str]:
        words = shlex.split(rest)
        from_stage = any(w.startswith("--from=") for w in words)
        *sources, dest = [w for w in words if not w.startswith("--")]
        target = Path(self.move(dest)) if dest.startswith("/") else workdir / dest
        if from_stage:  # every stage shares one root here: the path is already in place
            for source in sources:
                assert Path(self.move(source)).exists(), f"COPY --from: {source} was not built"
            return []
        copied = []
        for source in sources:
            if source in (".", "./"):
                copied += copy_context(self.context, target)
            else:
                src = self.context / source
                if src.is_dir():
                    shutil.copytree(src, target, dirs_exist_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, target)
                copied.append(source)
        return copied

    def _run(self, command: str, env: dict[str, str], workdir: Path) -> list[str]:
        if "apt-get install" in command:
            packages = []
            for part in command.split("&&"):
                words = part.split()
                if "install" in words and words[0] == "apt-get":
                    packages += [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
            return packages
        if "useradd" in command:
            return []
        command = self.move(command).replace("--no-cache-dir", "")
        result = subprocess.run(["/bin/sh", "-c", command], cwd=workdir, env=env, capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, f"RUN {command}\n{result.stdout}\n{result.stderr}"
        return []
