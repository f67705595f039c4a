"""What the offline commands print: render's documents, simulate's waves and documents."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from function.model import keys
from function.offline.documents import RESOURCE_NAME_ANNOTATION

if TYPE_CHECKING:
    from collections.abc import Mapping

    from function.offline.simulate import Round, Simulation


USAGE_PREFIX = keys.usage("", "").split("-", 1)[0] + "-"


def rendered(
    xr: Mapping[str, Any], status: Mapping[str, Any], resources: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The XR with its status, then each composed resource named by its annotation."""
    output: list[dict[str, Any]] = [{**xr, "status": dict(status)}]
    for key, body in resources.items():
        named = {**body, "metadata": dict(body.get("metadata") or {})}
        named["metadata"]["annotations"] = {
            **(named["metadata"].get("annotations") or {}),
            RESOURCE_NAME_ANNOTATION: key,
        }
        output.append(named)
    return output


def _round_documents(xr: Mapping[str, Any], step: Round) -> list[dict[str, Any]]:
    return rendered(xr, step.status, step.desired)


def documents(xr: Mapping[str, Any], result: Simulation, *, every_round: bool) -> list[Any]:
    """The converged XR and its resources; or every round, each as a Kubernetes List."""
    if not every_round:
        return _round_documents(xr, result.rounds[-1]) if result.rounds else []
    return [
        {
            "apiVersion": "v1",
            "kind": "List",
            "metadata": {"annotations": {"function-vcluster-environment/round": str(step.number)}},
            "items": _round_documents(xr, step),
        }
        for step in result.rounds
    ]


def _grouped(pending: list[str]) -> list[str]:
    """Pending lines with one reason joined into one line, in order; Usages counted apart."""
    by_reason: dict[str, list[str]] = {}
    usages = 0
    for line in pending:
        key, _, reason = line.partition(": ")
        if key.startswith(USAGE_PREFIX):
            usages += 1
            continue
        by_reason.setdefault(reason, []).append(key)
    lines = [f"    {', '.join(held)}: {reason}" for reason, held in by_reason.items()]
    if usages:
        lines.append(f"    {usages} Usages: waiting for their ends, or not ready yet")
    return lines


def waves(result: Simulation) -> str:
    """Each round's new resources, and what still waits, grouped by what it waits for."""
    lines: list[str] = []
    for step in result.rounds:
        made = [key for key in step.created if not key.startswith(USAGE_PREFIX)]
        if usages := len(step.created) - len(made):
            made.append(f"{usages} Usages")
        lines.append(f"round {step.number}: created {', '.join(made) or 'nothing'}")
        lines += _grouped(list(step.status.get("pending") or []))
    verdict = "ready" if result.converged else "NOT ready"
    lines.append(f"\nXR {verdict} after {len(result.rounds)} rounds")
    return "\n".join(lines) + "\n"
