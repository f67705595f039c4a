"""Every example's output, byte for byte, as recorded in ``tests/golden/``.

The function is deterministic, so what it answered once it must answer again:
these files pin the CLI's ``render`` and ``simulate`` output, every round of every
simulation in both XR shapes (the whole RunFunctionResponse, with the SHA-256 of its
deterministic bytes), the answers to converged observed state with each resource
flapped or gone (which is when copied values fall back to what was sent), and the
bytes a real ``serve`` process puts on the wire. The questions each round asks of
observed state are pinned apart from the outputs, as they are the memo's business.

``make golden`` rewrites the files (``GOLDEN_UPDATE=1``); do that only for a change
that is meant to change the output, and say why in the commit.
"""

from __future__ import annotations

import copy
import hashlib
import os
from functools import cache
from typing import TYPE_CHECKING, Any

import grpc
import pytest
import yaml
from click.testing import CliRunner
from conftest import (
    COMPOSITIONS,
    EXAMPLES,
    ROOT,
    SEED,
    as_shape,
    case_name,
    converged_observed,
    example_files,
    load,
)
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from crossplane.function.proto.v1beta1 import run_function_pb2 as fnv1beta1
from google.protobuf import json_format

from function.main import cli
from function.offline import documents
from function.offline.simulate import simulate
from function.serving import fn

if TYPE_CHECKING:
    from pathlib import Path

    from google.protobuf.message import Message

GOLDEN = ROOT / "tests" / "golden"
UPDATE = os.environ.get("GOLDEN_UPDATE") == "1"
SHAPES = {"legacy": "composition-legacy.yaml", "namespaced": "composition-v2.yaml"}
CALL_TIMEOUT_S = 10.0
V1_METHOD = "/apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction"
V1BETA1_METHOD = "/apiextensions.fn.proto.v1beta1.FunctionRunnerService/RunFunction"


def _input(shape: str) -> dict[str, Any]:
    found = documents.input_from(documents.load_documents(COMPOSITIONS / SHAPES[shape]))
    assert found is not None
    return found


def _dump(document: Any) -> str:
    return yaml.safe_dump(document, sort_keys=True, width=100, allow_unicode=True)


def _readable(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _compare(name: str, text: str) -> None:
    """Compare ``text`` with the golden file ``name``, or write it with GOLDEN_UPDATE=1."""
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.is_file(), f"{path} is missing: run `make golden` to record it"
    # Not read_text: universal newlines would hide a '\r' the output gained.
    assert text.encode() == path.read_bytes(), f"{name} differs from the recorded output"


@cache
def _simulation(path: Path, shape: str) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """Every round of the simulation: request tag, response and its bytes; and the questions."""
    rounds: list[dict[str, Any]] = []
    asked: list[list[Any]] = []

    def runner(req: fnv1.RunFunctionRequest) -> fnv1.RunFunctionResponse:
        outcome = fn.outcome(req)
        # What composing read of observed state: the memo keeps the same.
        asked.append(sorted(list(question) for question in outcome.answers))
        rsp = fn.to_response(req, outcome)
        data = rsp.SerializeToString(deterministic=True)
        rounds.append(
            {"request_tag": req.meta.tag, "sha256": _sha256(data), "response": _readable(rsp)}
        )
        return rsp

    result = simulate(as_shape(load(path), shape), _input(shape), runner=runner)
    assert result.converged or result.fatal is not None
    return rounds, asked


CASES = [
    pytest.param(path, shape, id=f"{case_name(path)}-{shape}")
    for path in example_files()
    for shape in SHAPES
]


@pytest.mark.parametrize(("path", "shape"), CASES)
def test_simulation_rounds(path: Path, shape: str) -> None:
    """Every round's whole response is the one recorded."""
    rounds, _ = _simulation(path, shape)
    _compare(f"simulate/{case_name(path)}-{shape}.yaml", _dump(rounds))


@pytest.mark.parametrize(("path", "shape"), CASES)
def test_simulation_questions(path: Path, shape: str) -> None:
    """Every round asks observed state the recorded questions (what the memo compares)."""
    _, asked = _simulation(path, shape)
    _compare(f"questions/{case_name(path)}-{shape}.yaml", _dump(asked))


def _converged(path: Path, shape: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    xr = as_shape(load(path), shape)
    return xr, converged_observed(xr, _input(shape))


def _flapped(body: dict[str, Any]) -> dict[str, Any]:
    """The resource as a provider reports it after losing it: not ready, nothing reported."""
    return {**body, "status": {"conditions": [{"type": "Ready", "status": "False"}]}}


@pytest.mark.parametrize(("path", "shape"), CASES)
def test_flapping_answers(path: Path, shape: str) -> None:
    """With each resource flapped or gone, the answer is the recorded one.

    This is where dependents fall back to the values they were sent before.
    """
    xr, observed = _converged(path, shape)
    function_input = _input(shape)
    answers = {}
    variants = [("converged", observed)]
    for key in sorted(observed):
        variants.append((f"{key} flapped", {**observed, key: _flapped(observed[key])}))
        gone = copy.deepcopy(observed)
        del gone[key]
        variants.append((f"{key} gone", gone))
    for name, state in variants:
        rsp = fn.run(documents.request(xr, state, function_input))
        status = documents.status_of(rsp)
        answers[name] = {
            "sha256": _sha256(rsp.SerializeToString(deterministic=True)),
            "fatal": documents.fatal_of(rsp),
            "pending": status.get("pending"),
        }
    _compare(f"flapping/{case_name(path)}-{shape}.yaml", _dump(answers))


def _composition_for(path: Path) -> Path:
    kind = (load(path) or {}).get("kind")
    return COMPOSITIONS / SHAPES["namespaced" if kind == "VClusterEnvironment" else "legacy"]


CLI_RUNS = ("render", "simulate", "render-defaults")


@pytest.mark.parametrize("run", CLI_RUNS)
@pytest.mark.parametrize("path", example_files(), ids=case_name)
def test_cli_output(run: str, path: Path) -> None:
    """``render`` and ``simulate`` print the recorded text and exit with the recorded code.

    ``render-defaults`` renders without an input, so the platform defaults are pinned too.
    """
    command, _, defaults = run.partition("-")
    args = [command, str(path.relative_to(ROOT))]
    if not defaults:
        args += ["--input", str(_composition_for(path).relative_to(ROOT))]
    result = CliRunner().invoke(cli, [str(ROOT / arg) if "/" in arg else arg for arg in args])
    shown = " ".join(args)
    text = (
        f"$ {shown}\nexit code: {result.exit_code}\n"
        f"--- stderr\n{result.stderr}--- stdout\n{result.stdout}"
    )
    _compare(f"cli/{case_name(path)}-{run}.txt", text)


def _grpc_requests() -> list[tuple[str, str, bytes]]:
    """(name, method, request bytes): first and converged calls, memo hits, a refusal, v1beta1."""
    xr = documents.composite_from(load(SEED))
    function_input = _input("legacy")
    first = documents.request(xr, {}, function_input)
    converged_xr, observed = _converged(SEED, "legacy")
    converged = documents.request(converged_xr, observed, function_input)
    # A field nothing reads changes the tag but not the answer: the memo gives it again.
    touched = copy.deepcopy(observed)
    touched["api"].setdefault("metadata", {})["resourceVersion"] = "2"
    unread = documents.request(converged_xr, touched, function_input)
    broken = copy.deepcopy(xr)
    broken["spec"]["vpc"]["subnetIds"] = ["12345"]
    refused = documents.request(broken, {}, function_input)
    beta = fnv1beta1.RunFunctionRequest.FromString(first.SerializeToString(deterministic=True))
    deterministic = [
        ("first", V1_METHOD, first),
        ("first-again", V1_METHOD, first),
        ("converged", V1_METHOD, converged),
        ("converged-unread-change", V1_METHOD, unread),
        ("refused", V1_METHOD, refused),
        ("first-v1beta1", V1BETA1_METHOD, beta),
    ]
    return [
        (name, method, req.SerializeToString(deterministic=True))
        for name, method, req in deterministic
    ]


@pytest.mark.slow  # a real server in a subprocess
def test_grpc_bytes(launcher: Any) -> None:
    """A real ``serve`` process answers each request with the recorded bytes."""
    server = launcher.start(["--insecure"])
    answers = {}
    with grpc.insecure_channel(server.target, options=[("grpc.enable_http_proxy", 0)]) as channel:
        for name, method, body in _grpc_requests():
            call = channel.unary_unary(
                method, request_serializer=lambda b: b, response_deserializer=lambda b: b
            )
            data: bytes = call(body, timeout=CALL_TIMEOUT_S)
            answers[name] = {
                "method": method,
                "sha256": _sha256(data),
                "length": len(data),
                "response": _readable(fnv1.RunFunctionResponse.FromString(data)),
            }
    _compare("grpc/seed.yaml", _dump(answers))


def test_golden_has_no_stale_files() -> None:
    """Every golden file belongs to a test here, so nothing recorded is silently ignored."""
    expected = {f"simulate/{case_name(p)}-{s}.yaml" for p in example_files() for s in SHAPES}
    expected |= {f"questions/{case_name(p)}-{s}.yaml" for p in example_files() for s in SHAPES}
    expected |= {f"flapping/{case_name(p)}-{s}.yaml" for p in example_files() for s in SHAPES}
    expected |= {f"cli/{case_name(p)}-{run}.txt" for p in example_files() for run in CLI_RUNS}
    expected |= {"grpc/seed.yaml"}
    found = {str(p.relative_to(GOLDEN)) for p in GOLDEN.rglob("*") if p.is_file()}
    assert found == expected
    assert EXAMPLES.is_dir()
