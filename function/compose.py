"""The whole composition as one pure function: XR, observed state, input -> outcome.

request -> typed spec -> builders per concern -> gating -> desired + status.
Nothing here touches protobuf or gRPC; ``serving.fn`` does the conversion.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from function import ordering, status
from function.builders import (
    apigateway,
    connection,
    destinationrules,
    domain,
    gatewayapi,
    istio,
    loadbalancer,
    security,
    tenantpolicy,
    usages,
    vcluster,
)
from function.model import immutable, naming, sticky
from function.model.context import Context, Desired
from function.model.convert import dig, plain
from function.model.errors import InvalidError, describe_error
from function.model.naming import Names, Shape
from function.model.observed import Observed, Question
from function.model.platform import FunctionInput, parse_input
from function.model.spec import CROSSPLANE_SPEC_FIELDS, EnvironmentSpec, parse_spec

DEFAULT_TTL_SECONDS = 60
# The XR's name reaches the connection Secret's name ('<name>-connection', at most 253)
# and an AWS tag value (at most 256); its namespace is a DNS label.
XR_NAME_MAX = 242
XR_NAMESPACE_MAX = 63
# In this order in status.pending. Istio and Gateway API are the two ingress modes:
# whichever the environment does not use composes nothing.
BUILDERS = (
    vcluster.build,
    istio.build,
    gatewayapi.build,
    destinationrules.build,
    security.build,
    tenantpolicy.build,
    loadbalancer.build,
    apigateway.build,
    domain.build,
)


@dataclass(frozen=True)
class Parsed:
    """The XR's spec and the function input, validated: all that composing reads of them."""

    spec: EnvironmentSpec
    platform: FunctionInput


@dataclass(frozen=True)
class Step:
    """What one builder asked of observed state, with the answers, and what it built.

    ``given``: the keys it was given besides the Context (the Usages' builder is given
    every key the others composed).
    """

    asked: dict[Question, Any]
    built: tuple[Desired, ...]
    given: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Built:
    """What composing built, step by step (``compose``'s ``before``).

    Builders read only the Context, so a builder whose questions get the same answers, in
    a Context made alike, builds the same again. ``made_of``: what the Context was made of
    besides observed state (``_made_of``); ``base``: what it asked of observed state (the
    names an environment keeps); ``names``: the names it derived from those answers.
    """

    made_of: tuple[Any, ...]
    base: dict[Question, Any]
    names: Names
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Outcome:
    """What the function answers: a Fatal message, or resources and status."""

    fatal: str | None = None
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    ready: dict[str, bool] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    connection: dict[str, str] = field(default_factory=dict)
    xr_ready: bool = False
    ttl_seconds: int = DEFAULT_TTL_SECONDS
    # What was read of observed state: the same answers give the same Outcome.
    answers: dict[Question, Any] = field(default_factory=dict)
    # The spec and input as validated, when they were valid: the same ones parse alike.
    parsed: Parsed | None = None
    # What was built, when all of it was: ``compose``'s ``before`` for the next call.
    built: Built | None = None


def _check(ctx: Context) -> None:
    """Rules that need both the claim and the platform input."""
    spec = ctx.spec
    if not ctx.api_gateway:
        return
    if not spec.vpc.subnet_ids and (ctx.listener_arn is None or ctx.vpc_link_id is None):
        needs = "the VPC link" if ctx.vpc_link_id is None else "the load balancer"
        msg = f"spec.vpc.subnetIds: apiGatewaySupport needs at least one subnet for {needs}"
        raise InvalidError(msg)
    arn = ctx.listener_arn
    if arn is not None and (arn_region := arn.split(":")[3]) != ctx.region:
        field = "spec.apiGateway" if spec.api_gateway.listener_arn else "input.shared"
        msg = (
            f"{field}.listenerArn: the listener is in {arn_region} and the environment in "
            f"{ctx.region}; a VPC link reaches only listeners in its own region"
        )
        raise InvalidError(msg)


def parse(xr: Mapping[str, Any], raw_input: Any) -> Parsed:  # noqa: ANN401
    """The XR's spec and the input, validated.

    Raises:
        InvalidError: The spec or the input is invalid; the message names the field.
    """
    if raw_input is not None and not isinstance(raw_input, Mapping):
        msg = "input: must be an object"
        raise InvalidError(msg)
    try:
        platform = parse_input(dict(raw_input) if raw_input else None)
    except ValidationError as error:
        raise InvalidError(describe_error("input", error)) from None
    raw_spec = dig(xr, "spec")
    if raw_spec is None:
        msg = "spec: the composite resource has no spec"
        raise InvalidError(msg)
    if not isinstance(raw_spec, Mapping):
        msg = "spec: must be an object"
        raise InvalidError(msg)
    try:
        # Crossplane's own fields (resourceRefs grows with every resource) are never read.
        own = {k: plain(v) for k, v in raw_spec.items() if k not in CROSSPLANE_SPEC_FIELDS}
        spec = parse_spec(own)
    except ValidationError as error:
        raise InvalidError(describe_error("spec", error)) from None
    return Parsed(spec, platform)


def context(
    xr: Mapping[str, Any],
    observed: Observed,
    raw_input: Any,  # noqa: ANN401
    parsed: Parsed | None = None,
    before: Built | None = None,
) -> Context:
    """The typed Context of a request: the XR's spec and the input validated, and checked.

    ``parsed``, when given, is ``parse(xr, raw_input)`` already done (``raw_input`` is unread).
    ``before``'s names are taken again when it was made alike and ``observed`` answers what
    it asked alike (``_alike``): the names an environment keeps are read from those answers.

    Raises:
        InvalidError: The spec or the input is invalid; the message names the field.
    """
    if parsed is None:
        parsed = parse(xr, raw_input)
    spec, platform = parsed.spec, parsed.platform
    name, namespace = dig(xr, "metadata", "name"), dig(xr, "metadata", "namespace")
    for part, value, most in (
        ("name", name, XR_NAME_MAX),
        ("namespace", namespace, XR_NAMESPACE_MAX),
    ):
        if isinstance(value, str) and len(value) > most:
            msg = f"metadata.{part}: {len(value)} characters long; at most {most}"
            raise InvalidError(msg)
    shape = Shape.NAMESPACED if isinstance(namespace, str) and namespace else Shape.LEGACY
    xr_name = str(name or spec.name)
    xr_namespace = namespace if isinstance(namespace, str) and namespace else None
    made_of = (spec, platform, shape, xr_name, xr_namespace)
    if before is not None and _alike(before, made_of, observed):
        names = before.names
    else:
        suffix = naming.identity_suffix(xr_name, xr_namespace)
        names = Names(spec.name, suffix, sticky.kept(observed, shape, spec.name))
    ctx = Context(spec, platform, shape, xr_name, xr_namespace, observed, names)
    _check(ctx)
    return ctx


def desired(ctx: Context) -> list[Desired]:
    """Every resource the environment asks for, held back or not, in builder order.

    Raises:
        InvalidError: A builder refuses a combination only it understands (e.g. a
            routing feature the chosen ingress API lacks); that is bad input too.
    """
    return _all(_steps(ctx))


def _steps(ctx: Context, before: tuple[Step, ...] = ()) -> tuple[Step, ...]:
    """Each builder's Step, then the Usages' and the connection Secret's.

    ``before``'s steps are taken again where their answers (and keys given) are unchanged.

    Raises:
        InvalidError: as ``desired``.
    """
    old = itertools.chain(before, itertools.repeat(None))
    steps = [_step(ctx, next(old), build) for build in BUILDERS]
    composed = frozenset(item.key for step in steps for item in step.built)
    steps.append(_step(ctx, next(old), lambda ctx: usages.build(ctx, composed), composed))
    steps.append(_step(ctx, next(old), connection.build))
    return tuple(steps)


def _step(
    ctx: Context,
    old: Step | None,
    build: Callable[[Context], Iterable[Desired]],
    given: frozenset[str] = frozenset(),
) -> Step:
    """``old`` again if given and answered alike; else ``build`` run, its questions noted."""
    if old is not None and old.given == given and ctx.observed.gives(old.asked):
        return old
    asked: dict[Question, Any] = {}
    ctx.observed.track(asked)
    built = tuple(build(ctx))
    ctx.observed.track(None)
    return Step(asked, built, given)


def _made_of(ctx: Context) -> tuple[Any, ...]:
    """What ``ctx`` is made of besides observed state (``context``'s ``made_of``).

    The validated spec and input compare as the same objects when the memo gives them
    again (``parsed``), which is when ``before`` is given; otherwise field by field.
    """
    return (ctx.spec, ctx.platform, ctx.shape, ctx.xr_name, ctx.xr_namespace)


def _alike(before: Built, made_of: tuple[Any, ...], observed: Observed) -> bool:
    """Whether a Context made of ``made_of`` over ``observed`` is made as ``before``'s was."""
    return before.made_of == made_of and observed.gives(before.base)


def _all(steps: tuple[Step, ...]) -> list[Desired]:
    """Every resource the steps built, in their order."""
    return [item for step in steps for item in step.built]


def compose(  # noqa: PLR0913
    xr: Mapping[str, Any],
    observed: Mapping[str, Mapping[str, Any]],
    raw_input: Any = None,  # noqa: ANN401
    *,
    known: Mapping[Question, Any] | None = None,
    parsed: Parsed | None = None,
    before: Built | None = None,
) -> Outcome:
    """Compose one environment from the observed XR, composed resources and input.

    The XR's spec, name and namespace are all that is read of it (``context``).
    ``known`` holds answers about observed resources given without reading them (``Observed``);
    ``parsed``, the spec and input already validated (``parse``); ``before``, what the last
    composition of this XR built (``Outcome.built``): builders whose answers are unchanged
    are not run again, when the Context is made of the same spec and input.
    """
    seen = Observed(observed, known)
    base: dict[Question, Any] = {}
    try:
        seen.track(base)
        ctx = context(xr, seen, raw_input, parsed, before)
        seen.track(None)
        # context takes before's names exactly when its steps may be taken again (_alike).
        alike = before is not None and ctx.names is before.names
        steps = _steps(ctx, before.steps if before is not None and alike else ())
        wanted = _all(steps)
        immutable.check(seen, wanted)
    except InvalidError as error:
        return Outcome(fatal=str(error), answers=seen.answers())
    parsed = Parsed(ctx.spec, ctx.platform)
    seen.expect({item.key: item.manifest for item in wanted})
    plan = ordering.plan(ctx, wanted)
    if plan.lost:
        # Sending desired state without them would delete them; a Fatal result
        # makes Crossplane keep everything as it is.
        return Outcome(
            fatal=f"cannot re-render observed resources {', '.join(plan.lost)}: "
            "a value they need disappeared from observed state",
            answers=seen.answers(),
            parsed=parsed,
        )
    ready = {item.key: ctx.observed.ready(item.key) for item in plan.emit}
    not_ready = [key for key, ok in ready.items() if not ok]
    xr_status = status.build(ctx, plan, not_ready)
    details = connection.details(ctx)
    # Everything that reads observed state has run: the answers are complete.
    return Outcome(
        resources={item.key: item.manifest for item in plan.emit if item.manifest is not None},
        ready=ready,
        status=xr_status,
        connection=details,
        xr_ready=xr_status["ready"],
        # Poll while waiting on AWS; otherwise let Crossplane's own watches drive us.
        ttl_seconds=DEFAULT_TTL_SECONDS if xr_status["ready"] else ctx.platform.poll_seconds,
        answers=seen.answers(),
        parsed=parsed,
        built=Built(_made_of(ctx), base, ctx.names, steps),
    )
