"""A read-only view of the observed composed resources.

Builders read single values from here (an ARN, an id, readiness); they never copy
an observed object into desired state. Every question asked and its answer are
kept, so a caller can later ask them of new observed state (``fresh``) and tell
whether it gives the same answers without composing again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, overload

from function.model.convert import OBJECTS, dig, plain
from function.model.readiness import Condition, conditions, is_ready, sync_error

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

# A question put to observed state: ("has", key), ("ready", key, apiVersion, kind),
# ("synced", key), ("get", key, *path) or ("object", key, *path).
Question = tuple[str, ...]
# A composed resource's key, then a path into one of its parts.
Field = tuple[str, ...]
T = TypeVar("T")
# Not among the known answers (None is an answer).
_UNKNOWN = object()


def text(value: Any) -> str | None:  # noqa: ANN401
    """A non-empty string, or None for anything else (missing, null, wrong type)."""
    return value if isinstance(value, str) and value else None


def same(a: Any, b: Any) -> bool:  # noqa: ANN401
    """Equal and of the same types and signs throughout, as a Struct tells values apart.

    Answers are plain data: dicts, lists and floats of exactly those types (``plain``).
    """
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is dict:
        return a.keys() == b.keys() and all(same(value, b[key]) for key, value in a.items())
    if kind is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if kind is float:
        return bool(a.hex() == b.hex())  # -0.0 == 0.0, yet a Struct keeps the sign
    return bool(a == b)


class Observed:
    """Observed composed resources keyed by composition resource name."""

    def __init__(
        self,
        resources: Mapping[str, Mapping[str, Any]],
        known: Mapping[Question, Any] | None = None,
    ) -> None:
        """Wrap resources given as mappings: plain dicts, or views over protobuf Structs.

        ``known`` answers questions without reading ``resources``: the caller vouches that
        these resources give them (the memo knows them from an earlier, identical object).
        """
        self._resources = resources
        self._known = known or {}
        self._answers: dict[Question, Any] = {}
        self._composed: dict[str, tuple[str, str]] = {}
        self._conditions: dict[str, tuple[Condition, ...]] = {}
        self._trail: dict[Question, Any] | None = None

    def _conditions_of(self, key: str) -> tuple[Condition, ...]:
        """The conditions of the resource under ``key``, read once for both questions on them."""
        found = self._conditions.get(key)
        if found is None:
            found = self._conditions[key] = conditions(self._resources.get(key))
        return found

    def _answer(self, question: Question) -> Any:  # noqa: ANN401
        what, key, *path = question
        if what == "has":
            return key in self._resources
        if what == "ready":
            resource = self._resources.get(key)
            if resource is None:
                return False
            # Under one of our keys, an object of another type is not ours: never ready.
            of_type = not path or [resource.get("apiVersion"), resource.get("kind")] == path
            return of_type and is_ready(resource, self._conditions_of(key))
        if what == "synced":
            return sync_error(self._conditions_of(key))
        if what == "object":
            return isinstance(dig(self._resources.get(key), *path), OBJECTS)
        return plain(dig(self._resources.get(key), *path))

    def _ask(self, *question: str) -> Any:  # noqa: ANN401
        answer = self._answers.get(question, _UNKNOWN)
        if answer is _UNKNOWN:
            answer = self._known.get(question, _UNKNOWN)
            if answer is _UNKNOWN:
                answer = self._answer(question)
            self._answers[question] = answer
        if self._trail is not None:
            self._trail[question] = answer
        return answer

    def track(self, trail: dict[Question, Any] | None) -> None:
        """Note in ``trail`` each question asked from now on, with its answer; None stops."""
        self._trail = trail

    def gives(self, asked: Mapping[Question, Any]) -> bool:
        """Whether each question in ``asked`` gets the answer given there, asking it so."""
        return all(same(self._ask(*question), answer) for question, answer in asked.items())

    def __contains__(self, key: str) -> bool:
        """Whether Crossplane reports this composed resource as existing."""
        return bool(self._ask("has", key))

    def get(self, key: str, *path: str) -> Any:  # noqa: ANN401
        """A nested value of an observed resource as plain data, or None."""
        return self._ask("get", key, *path)

    def holds_object(self, key: str, *path: str) -> bool:
        """Whether an observed resource holds an object at ``path``, without converting it."""
        return bool(self._ask("object", key, *path))

    def reported(self, key: str, *path: str) -> Any:  # noqa: ANN401
        """A value AWS reported for a resource (under ``status.atProvider``), or None."""
        return self.get(key, "status", "atProvider", *path)

    def sent(self, key: str, *path: str) -> Any:  # noqa: ANN401
        """A value this function sent for a resource (under ``spec.forProvider``), or None."""
        return self.get(key, "spec", "forProvider", *path)

    def at_provider(self, key: str, field: str) -> str | None:
        """A string from ``status.atProvider``: the values AWS assigned."""
        return text(self.reported(key, field))

    @overload
    def reported_or_sent(self, reported: Field, sent: Field) -> str | None: ...

    @overload
    def reported_or_sent(
        self,
        reported: Field,
        sent: Field,
        read: Callable[[Any], T | None],
        read_sent: Callable[[Any], T | None] | None = None,
    ) -> T | None: ...

    def reported_or_sent(
        self,
        reported: Field,
        sent: Field,
        read: Callable[[Any], Any] = text,
        read_sent: Callable[[Any], Any] | None = None,
    ) -> Any:
        """The value AWS reports at ``reported``, else the one this function sent at ``sent``.

        A dependent copies a value its dependency reports (an ARN, an id). When the
        dependency flaps and stops reporting it, the dependent, once created, keeps
        the value it was sent last time: dropping it would make Crossplane delete it.

        Args:
            reported: the dependency's key, then a path under its ``status.atProvider``.
            sent: the dependent's key, then a path under its ``spec.forProvider``.
            read: turns the raw value into the wanted one, or None if it is missing or
                malformed; a non-empty string by default.
            read_sent: the same for the sent value, where it is kept in another form
                (a list holding the one string AWS reports); ``read`` by default.
        """
        value = read(self.reported(*reported))
        if value is not None:
            return value
        return (read_sent or read)(self.sent(*sent))

    def expect(self, manifests: Mapping[str, Mapping[str, Any] | None]) -> None:
        """Say what is composed under each key, so readiness reads only objects of that type."""
        self._composed = {
            key: (str(manifest["apiVersion"]), str(manifest["kind"]))
            for key, manifest in manifests.items()
            if manifest is not None
        }

    def ready(self, key: str) -> bool:
        """Whether the resource exists, is of the type composed under ``key``, and is ready."""
        return bool(self._ask("ready", key, *self._composed.get(key, ())))

    def sync_error(self, key: str) -> str | None:
        """Why the provider could not apply the resource (Synced=False), or None."""
        error = self._ask("synced", key)
        return error if isinstance(error, str) else None

    def answers(self) -> dict[Question, Any]:
        """Every question asked so far, with the answer given."""
        return dict(self._answers)

    def fresh(self, questions: Iterable[Question]) -> dict[Question, Any]:
        """What these resources answer to ``questions`` now; nothing is recorded or reused."""
        return {question: self._answer(question) for question in questions}
