"""The command line's options, in process: output formats, version, refusals, the graph."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import COMPOSITIONS, EXAMPLES, ROOT, SEED

from function import main
from function.main import cli, serve
from function.offline import documents
from function.offline.simulate import simulate

if TYPE_CHECKING:
    from pathlib import Path

LEGACY = str(COMPOSITIONS / "composition-legacy.yaml")
V2 = str(COMPOSITIONS / "composition-v2.yaml")


def _run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _seed_simulation() -> Any:
    xr = documents.composite_from(yaml.safe_load(SEED.read_text(encoding="utf-8")))
    return simulate(
        xr, documents.input_from(documents.load_documents(COMPOSITIONS / "composition-legacy.yaml"))
    )


def test_version_is_the_package_version() -> None:
    """--version prints the one version, the one pyproject.toml sets."""
    declared = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert declared is not None
    assert _run("--version").output.strip().endswith(f"version {declared.group(1)}")


def test_simulate_json_is_the_converged_xr_and_its_resources() -> None:
    """-o json gives other tools the last round: the XR with its status, then every resource."""
    result = _run("simulate", str(SEED), "--input", LEGACY, "-o", "json")
    assert result.exit_code == 0, result.output
    output = json.loads(result.output)
    expected = _seed_simulation().rounds[-1]
    assert output[0]["kind"] == "XVClusterEnvironment"
    assert output[0]["status"] == expected.status
    named = {
        d["metadata"]["annotations"][documents.RESOURCE_NAME_ANNOTATION]: d for d in output[1:]
    }
    assert sorted(named) == sorted(expected.desired)
    assert named["api"]["spec"] == expected.desired["api"]["spec"]


def test_simulate_yaml_rounds_are_lists() -> None:
    """--rounds gives one Kubernetes List per round, numbered, each with the XR first."""
    result = _run("simulate", str(SEED), "--input", LEGACY, "-o", "yaml", "--rounds")
    assert result.exit_code == 0, result.output
    lists = list(yaml.safe_load_all(result.output))
    assert [d["metadata"]["annotations"]["function-vcluster-environment/round"] for d in lists] == [
        str(n + 1) for n in range(len(_seed_simulation().rounds))
    ]
    assert all(
        d["kind"] == "List" and d["items"][0]["kind"] == "XVClusterEnvironment" for d in lists
    )


def test_simulate_text_groups_waits() -> None:
    """The text output names each wait once, and counts Usages instead of listing them."""
    result = _run("simulate", str(SEED), "--input", LEGACY)
    assert result.exit_code == 0, result.output
    waits = [line for line in result.output.splitlines() if line.startswith("    ")]
    assert "    vcluster, ingress-gateway: waiting for namespace to be ready" in waits
    assert not [line for line in waits if line.lstrip().startswith("usage-")]
    assert "round 5: created route-proxy, route-root, 7 Usages" in result.output


def test_render_takes_its_own_output_as_observed(tmp_path: Path) -> None:
    """Render's output given back as --observed is read as the composed resources it lists."""
    first = _run("render", str(SEED), "--input", LEGACY)
    assert first.exit_code == 0, first.output
    (tmp_path / "observed.yaml").write_text(first.output, encoding="utf-8")
    again = _run(
        "render", str(SEED), "--input", LEGACY, "--observed", str(tmp_path / "observed.yaml")
    )
    assert again.exit_code == 0, again.output
    names = [
        d["metadata"]["annotations"][documents.RESOURCE_NAME_ANNOTATION]
        for d in list(yaml.safe_load_all(again.output))[1:]
    ]
    # Nothing observed is ready, so nothing new appears and nothing is dropped.
    assert sorted(names) == sorted(
        d["metadata"]["annotations"][documents.RESOURCE_NAME_ANNOTATION]
        for d in list(yaml.safe_load_all(first.output))[1:]
    )


@pytest.mark.parametrize(
    ("command", "composite", "composition"),
    [
        ("render", EXAMPLES / "v2" / "xr.yaml", LEGACY),  # a v2 XR with the legacy Composition
        ("simulate", SEED, V2),  # a claim (legacy XR) with the v2 Composition
        ("graph", SEED, V2),  # the graph is drawn from the same simulation
    ],
)
def test_composition_for_another_type_is_refused(
    command: str, composite: Path, composition: str
) -> None:
    """As crossplane render does: a Composition composes one type of XR, and says which."""
    result = _run(command, str(composite), "--input", composition)
    assert result.exit_code == 1
    assert "composition vclusterenvironments-" in result.output
    assert "composes" in result.output


def test_every_serve_option_documents_itself() -> None:
    """Each serve option has help text, and says its environment variable where it has one."""
    for option in serve.params:
        assert option.help, option.name  # type: ignore[attr-defined]
        if option.envvar:  # type: ignore[attr-defined]
            assert option.show_envvar, option.name  # type: ignore[attr-defined]


def test_environment_names_every_setting_serve_reads() -> None:
    """What harnesses clear before starting a server: the SDK's settings and the memo's."""
    assert main.environment() == (
        "ADDRESS",
        "DEBUG",
        "FUNCTION_CACHE_MIB",
        "INSECURE",
        "MAX_GRPC_MESSAGE_SIZE",
        "MAX_RECV_MESSAGE_SIZE",
        "MAX_SEND_MESSAGE_SIZE",
        "TLS_SERVER_CERTS_DIR",
    )


def test_readme_graph_is_current() -> None:
    """The README's Mermaid picture is what `graph` draws for the seed today."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"```mermaid\n(.*?)```", readme, re.DOTALL)
    assert found is not None, "README has no mermaid block"
    drawn = _run("graph", str(SEED), "--input", LEGACY)
    assert drawn.exit_code == 0, drawn.output
    assert found.group(1) == drawn.output, "run: make graph (and paste it into README.md)"
