"""Composing again from what the last composition built: steps answered alike are not run."""

from __future__ import annotations

import copy
import dataclasses
from typing import TYPE_CHECKING, Any

import pytest
from conftest import SEED, converged_observed, load, platform_input

from function import compose as compose_module
from function.builders import connection, usages
from function.compose import Built, Outcome, compose, parse
from function.model import sticky
from function.model.context import Desired

if TYPE_CHECKING:
    from collections.abc import Callable

Change = tuple[dict[str, Any], dict[str, Any], dict[str, Any]]  # xr, observed, input


def _same(case: Change) -> Change:
    return case


def _unread(case: Change) -> Change:
    xr, observed, given = case
    observed["api"]["metadata"]["resourceVersion"] = "2"
    return xr, observed, given


def _listener(case: Change) -> Change:
    xr, observed, given = case
    at_provider = observed["listener"]["status"]["atProvider"]
    at_provider["arn"] = f"{at_provider['arn']}-2"
    return xr, observed, given


def _old_name(case: Change) -> Change:
    """The ProviderConfig carries the name version 0.1.0 gave it: the environment keeps it."""
    xr, observed, given = case
    observed["vcluster-provider-config"]["metadata"]["name"] = f"{xr['spec']['name']}-vcluster"
    return xr, observed, given


def _renamed(case: Change) -> Change:
    xr, observed, given = case
    xr["metadata"]["name"] = "another"
    return xr, observed, given


def _spec(case: Change) -> Change:
    xr, observed, given = case
    xr["spec"]["include"] = [part for part in xr["spec"]["include"] if part != "grafana"]
    return xr, observed, given


def _counting(ran: list[str], build: Callable[..., list[Desired]]) -> Callable[..., list[Desired]]:
    """``build``, noting its module's name each time it runs."""

    def run(*args: Any) -> list[Desired]:
        ran.append(build.__module__.rsplit(".", 1)[1])
        return build(*args)

    return run


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The builders run from now on, by module name, in order."""
    found: list[str] = []
    counted = tuple(_counting(found, build) for build in compose_module.BUILDERS)
    monkeypatch.setattr(compose_module, "BUILDERS", counted)
    monkeypatch.setattr(usages, "build", _counting(found, usages.build))
    monkeypatch.setattr(connection, "build", _counting(found, connection.build))
    return found


def _first() -> tuple[Change, Outcome]:
    xr = load(SEED)
    given = platform_input()
    observed = converged_observed(xr, given)
    return (xr, observed, given), compose(xr, observed, given, parsed=parse(xr, given))


EVERY = [
    "vcluster", "istio", "gatewayapi", "destinationrules", "security", "tenantpolicy",
    "loadbalancer", "apigateway", "domain", "usages", "connection",
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "same_parse", "expected", "why"),
    [
        pytest.param(_same, True, [], "Nothing changed: every step is taken again.", id="same"),
        pytest.param(_unread, True, [], "A value no step reads changed.", id="unread"),
        pytest.param(_listener, True, ["apigateway"],
                     "The listener's ARN is read by the API Gateway step alone.", id="listener"),
        pytest.param(_old_name, True, EVERY,
                     "The Context asked what names the environment keeps: every step runs.",
                     id="kept-name"),
        pytest.param(_same, False, [],
                     "The spec validated again is equal, though another object.", id="parsed-anew"),
        pytest.param(_spec, False, EVERY, "Another spec: every step runs.", id="spec"),
        pytest.param(_renamed, False, EVERY, "Another XR: every step runs.", id="xr-name"),
    ],
)  # fmt: skip
def test_only_steps_whose_answers_changed_run_again(
    ran: list[str],
    change: Callable[[Change], Change],
    same_parse: bool,
    expected: list[str],
    why: str,
) -> None:
    """Composing from ``before`` runs the steps it must, and gives what composing afresh gives."""
    case, first = _first()
    xr, observed, given = change(copy.deepcopy(case))
    parsed = first.parsed if same_parse else parse(xr, given)
    ran.clear()
    again = compose(xr, observed, given, parsed=parsed, before=first.built)
    assert ran == expected, why
    afresh = compose(xr, observed, given)
    assert dataclasses.replace(again, answers={}, built=None, parsed=None) == dataclasses.replace(
        afresh, answers={}, built=None, parsed=None
    ), why
    assert again.built is not None
    assert [step.built for step in again.built.steps] == [
        step.built for step in (afresh.built.steps if afresh.built else ())
    ], why


def test_a_changed_answer_before_the_steps_runs_every_step(ran: list[str]) -> None:
    """What the Context asked (the names an environment keeps) answered otherwise: all run."""
    (xr, observed, given), first = _first()
    assert first.built is not None
    base = {**first.built.base, ("has", "nothing-here"): True}
    before = dataclasses.replace(first.built, base=base)
    ran.clear()
    compose(xr, observed, given, parsed=first.parsed, before=before)
    assert ran == EVERY


@pytest.mark.parametrize(
    ("change", "same_parse", "derived", "why"),
    [
        pytest.param(_listener, True, False,
                     "Only a value a builder reads changed: the names are taken again.",
                     id="listener"),
        pytest.param(_old_name, True, True,
                     "A name the environment keeps is answered otherwise: derived anew.",
                     id="kept-name"),
        pytest.param(_renamed, False, True,
                     "Another XR name, so another identity suffix: derived anew.", id="xr-name"),
    ],
)  # fmt: skip
def test_names_are_derived_again_only_for_a_context_made_otherwise(
    monkeypatch: pytest.MonkeyPatch,
    change: Callable[[Change], Change],
    same_parse: bool,
    derived: bool,
    why: str,
) -> None:
    """The names an environment keeps are read again only when what they come from changed."""
    case, first = _first()
    xr, observed, given = change(copy.deepcopy(case))
    parsed = first.parsed if same_parse else parse(xr, given)
    read: list[str] = []
    derive = sticky.kept

    def kept(*args: Any) -> dict[str, str]:
        read.append("kept")
        return derive(*args)

    monkeypatch.setattr(compose_module.sticky, "kept", kept)
    again = compose(xr, observed, given, parsed=parsed, before=first.built)
    assert again.built is not None
    assert first.built is not None
    assert (read == ["kept"], again.built.names is first.built.names) == (derived, not derived), why


@pytest.mark.parametrize(
    ("given", "runs", "why"),
    [
        pytest.param(frozenset({"a"}), False, "The same keys given: taken again.", id="same"),
        pytest.param(frozenset({"a", "b"}), True, "Other keys given: built again.", id="other"),
    ],
)
def test_a_step_given_other_keys_is_built_again(
    given: frozenset[str], runs: bool, why: str
) -> None:
    """A step is taken again only when given the keys it was given (the Usages' step)."""
    (xr, observed, raw), first = _first()
    ctx = compose_module.context(xr, compose_module.Observed(observed), raw, first.parsed)
    calls: list[int] = []

    def build(_: Any) -> list[Desired]:
        calls.append(1)
        return [Desired("k", {"kind": "K"})]

    old = compose_module._step(ctx, None, build, frozenset({"a"}))  # noqa: SLF001
    step = compose_module._step(ctx, old, build, given)  # noqa: SLF001
    assert (len(calls) == 2, step is old) == (runs, not runs), why
    assert step.given == given


def test_built_is_kept_only_for_an_answer() -> None:
    """A Fatal outcome keeps nothing to build from: the next composition starts afresh."""
    xr = load(SEED)
    del xr["spec"]["vpc"]
    outcome = compose(xr, {}, platform_input())
    assert outcome.fatal is not None
    assert outcome.built is None
    assert isinstance(_first()[1].built, Built)


def test_the_usages_step_runs_again_when_other_keys_are_composed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The Usages' step asks nothing of observed state, yet runs again for other keys."""
    (xr, observed, raw), first = _first()

    def named_after_the_api(ctx: Any) -> list[Desired]:
        return [Desired(str(ctx.observed.get("api", "status", "atProvider", "id")), {})]

    monkeypatch.setattr(compose_module, "BUILDERS", (named_after_the_api,))
    given: list[frozenset[str]] = []

    def build(_: Any, composed: frozenset[str]) -> list[Desired]:
        given.append(composed)
        return []

    monkeypatch.setattr(usages, "build", build)
    steps: tuple[compose_module.Step, ...] = ()
    for api_id in ("a", "b"):
        observed["api"]["status"]["atProvider"]["id"] = api_id
        seen = compose_module.Observed(observed)
        steps = compose_module._steps(compose_module.context(xr, seen, raw, first.parsed), steps)  # noqa: SLF001
    assert given == [frozenset({"a"}), frozenset({"b"})]
