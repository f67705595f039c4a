"""The command line, run as a user would: render and simulate on the examples."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from conftest import COMPOSITIONS, ROOT, SEED, example_files

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow  # the command line in subprocesses

LEGACY = str(COMPOSITIONS / "composition-legacy.yaml")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "function", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=120,
    )


def test_simulate_seed() -> None:
    """The README's first command: the seed converges and prints waves and the final status."""
    result = _cli("simulate", str(SEED), "--input", LEGACY)
    assert result.returncode == 0, result.stderr
    assert "round 1: created api, certificate, namespace, nlb, vpc-link" in result.stdout
    assert "XR ready after" in result.stdout
    status = yaml.safe_load(result.stdout.split("\n\n", 1)[1].split("\n", 1)[1])["status"]
    assert status["apiGateway"]["endpoint"] == "https://api.mycompany.com"
    assert status["apiGateway"]["id"]
    assert status["apiGateway"]["vpcLinkId"]
    assert status["apiGateway"]["stage"] == "prod"


def test_render_first_call() -> None:
    """Render prints the XR with status, then the first wave with resource-name annotations."""
    result = _cli("render", str(SEED), "--input", LEGACY)
    assert result.returncode == 0, result.stderr
    documents = list(yaml.safe_load_all(result.stdout))
    assert documents[0]["kind"] == "XVClusterEnvironment"
    assert documents[0]["status"]["ready"] is False
    names = {d["metadata"]["annotations"]["crossplane.io/composition-resource-name"]
             for d in documents[1:]}  # fmt: skip
    assert names == {"api", "certificate", "namespace", "nlb", "vpc-link"}


def test_render_with_observed(tmp_path: Path) -> None:
    """Observed resources given as files move render to the next wave."""
    first = list(yaml.safe_load_all(_cli("render", str(SEED), "--input", LEGACY).stdout))
    for document in first[1:]:
        document["status"] = {"conditions": [{"type": "Ready", "status": "True"}],
                              "atProvider": {"id": "abc123"}}  # fmt: skip
        key = document["metadata"]["annotations"]["crossplane.io/composition-resource-name"]
        (tmp_path / f"{key}.yaml").write_text(yaml.safe_dump(document))
    result = _cli("render", str(SEED), "--input", LEGACY, "--observed", str(tmp_path))
    assert result.returncode == 0, result.stderr
    kinds = {d["kind"] for d in yaml.safe_load_all(result.stdout)}
    assert {"Release", "Stage"} <= kinds


@pytest.mark.parametrize(
    ("claim", "message"),
    [
        pytest.param(
            {"spec": {"name": "x", "vpc": {"subnetIds": ["12345"]}}},
            "Fatal: spec.vpc.subnetIds[0]: '12345' is not a subnet id",
            id="bad-subnet",
        ),
        pytest.param(
            {"kind": "VClusterEnvironmentClaim"}, "Fatal: spec.name: required field", id="no-spec"
        ),
    ],
)
def test_bad_claim_exits_one(tmp_path: Path, claim: dict[str, object], message: str) -> None:
    """A bad claim exits 1 with the Fatal message on stderr, never a traceback."""
    path = tmp_path / "claim.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "platform.example.org/v1alpha1",
                                    "kind": "VClusterEnvironmentClaim",
                                    "metadata": {"name": "c"}, **claim}))  # fmt: skip
    for command in ("render", "simulate"):
        result = _cli(command, str(path))
        assert result.returncode == 1
        assert result.stderr.startswith(message), result.stderr
        assert "Traceback" not in result.stderr


def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    """A file that is not YAML gives a one-line error naming it."""
    path = tmp_path / "broken.yaml"
    path.write_bytes(b"\xff\xfe: [")
    result = _cli("render", str(path))
    assert result.returncode == 1
    assert "broken.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_example_simulates() -> None:
    """Every example claim or XR converges from the command line, with its own Composition."""
    for path in example_files():
        v2 = yaml.safe_load(path.read_text(encoding="utf-8"))["kind"] == "VClusterEnvironment"
        result = _cli(
            "simulate",
            str(path),
            "--input",
            str(COMPOSITIONS / "composition-v2.yaml") if v2 else LEGACY,
        )
        assert result.returncode == 0, (path.name, result.stderr)


def test_serve_says_when_it_starts_and_stops(launcher: Any) -> None:
    """One line at start (address, TLS, memo budget) and one at shutdown, for operators."""
    server = launcher.start(["--insecure", "--cache-mib", "7"])
    assert server.terminate() == 0
    lines = [
        line for line in server.output().splitlines() if "serving" in line or "stopped" in line
    ]
    assert len(lines) == 2, server.output()
    start, stop = lines
    for expected in ("serving", server.target, "off", "7"):
        assert expected in start, start
    assert "stopped" in stop
