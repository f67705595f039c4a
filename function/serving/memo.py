"""The last answer for each composite resource, given again while nothing it was made from changed.

Crossplane calls the function on every reconcile of every XR, and (with realtime
compositions) whenever a composed resource changes, so most calls carry what the
previous call for that XR carried. Two ways to know the answer is unchanged:

- The same request. Crossplane tags every request with a SHA-256 of it, and the
  protocol promises that requests with the same tag are otherwise identical. The
  promise is not trusted (other clients send a fixed tag, "test", or break it): the
  previous response, tag included, is given only when the XR, input, desired state,
  context and every observed resource are what they were.
- The same inputs. ``compose`` reads the XR's spec, name and namespace, the input,
  and the observed values it asks ``Observed`` for; ``response.to`` copies earlier
  functions' desired state and context. When all of those are as they were, the
  answer is the previous one with the new tag, even though observed state changed
  in ways the function never reads (resourceVersion, managedFields, other fields).
  A fingerprint per observed resource tells which resources changed; only the questions
  about those are asked again.

Fingerprints and input digests are taken as ``fingerprints`` says, from the request read
shallowly (``shallow``): an answer given again costs no full parse of the request.

When the answer must be composed, the memo still knows the answers about every resource
that did not change (``Miss.known``): composing reads only the others.

Crossplane has an optional response cache of its own, keyed by the tag; the second
way also answers the calls that cache cannot.

Answers are kept serialized, so what the memo hands out is immutable and costs no
serialization. The questions and answers an answer was made from are kept packed
(``marshal``), one blob per observed resource, at a fifth of their size as objects: a
recall unpacks only the blobs of the resources that changed, and keeping what it then
composes packs only those again. The XRs composed last (those AWS is still creating
resources for) keep their answers unpacked besides, so that composing them again does not
unpack the blobs of every resource that did not change. Thread-safe: the gRPC loop
recalls while the worker thread composes.
"""

from __future__ import annotations

import dataclasses
import marshal
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from crossplane.function.proto.v1 import run_function_pb2 as fnv1

from function.model.observed import Observed, Question, same
from function.serving import fingerprints, shallow
from function.serving.pieces import Pieces

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from function.compose import Built, Outcome, Parsed
    from function.serving.fingerprints import Identity


DEFAULT_BUDGET_MIB = 16
# The encoded manifests composing reuses (``pieces``) get 1/PIECES_SHARE of the budget again.
PIECES_SHARE = 16
# What each resource's fingerprint and packed questions cost besides their bytes: the
# name's str object, the bytes object and the dict slot (measured with tracemalloc), so
# that the budget bounds memory, not only bytes.
ITEM_COST_BYTES = 128
# XRs whose validated spec and input are kept, most recently composed first: an XR whose
# observed values change while AWS creates its resources is composed again and again; most
# others are answered without composing. By count: each is pydantic models of ~13 KiB.
PARSED_KEPT = 64
# XRs whose builders' work is kept (``compose``'s ``before``), most recently composed first:
# those composed again while AWS creates their resources. By count: each is the manifests
# and questions of one composition, ~52 KiB for the real-sized seed claim. As many XRs keep
# their answers unpacked besides: one dict, its questions and answers shared with ``before``.
BUILT_KEPT = 16
T = TypeVar("T")


@dataclass(frozen=True)
class Encoded:
    """A RunFunctionResponse already serialized deterministically; gRPC sends it as is."""

    data: bytes

    def SerializeToString(self, *, deterministic: bool = True) -> bytes:
        """The response's bytes (the name and flag are protobuf's, for the gRPC serializers)."""
        del deterministic  # the bytes are deterministic already
        return self.data


@dataclass(frozen=True)
class Spliced(Encoded):
    """A composed answer serialized, and its meta field, which the memo keeps apart."""

    meta: fnv1.ResponseMeta


def _meta(tag: str, meta: fnv1.ResponseMeta) -> bytes:
    """The serialized meta field of a response with ``meta``, tagged ``tag``."""
    head = fnv1.RunFunctionResponse(meta=meta)
    head.meta.tag = tag
    return bytes(head.SerializeToString(deterministic=True))


@dataclass(frozen=True)
class _Entry:
    tag: str
    inputs: tuple[bytes, bytes]  # digests: of what is read of the XR, and of the rest
    digests: dict[str, bytes]
    answers: dict[str, bytes]  # per observed resource: its questions and answers, packed
    data: bytes  # the whole answer, its meta field first
    head: int  # how many leading bytes of data are the meta field
    cost: int  # bytes, roughly: what the entry holds

    def retagged(self, tag: str, digests: dict[str, bytes]) -> _Entry:
        """The same answer to a request with another tag and other unread values."""
        # The answer's meta (its TTL) is read back from its bytes: a protobuf message kept
        # with every entry would cost an arena of its own, several times these bytes.
        meta = fnv1.RunFunctionResponse.FromString(self.data[: self.head]).meta
        head = _meta(tag, meta)
        data = head + self.data[self.head :]
        # Only the bytes and the fingerprints differ from this entry's.
        cost = self.cost + len(data) - len(self.data) + _held(digests) - _held(self.digests)
        return dataclasses.replace(
            self, tag=tag, digests=digests, data=data, head=len(head), cost=cost
        )


def _cost(
    data: bytes, inputs: tuple[bytes, ...], digests: dict[str, bytes], answers: dict[str, bytes]
) -> int:
    """Roughly what an entry holds, in bytes."""
    return len(data) + sum(map(len, inputs)) + _held(digests) + _held(answers)


def _held(items: Mapping[str, bytes]) -> int:
    """What a mapping of names to bytes holds: each item's bytes and objects."""
    # Summed in C (map, not a generator): this runs on every recall of a changed request.
    return sum(map(len, items)) + sum(map(len, items.values())) + ITEM_COST_BYTES * len(items)


def _pack(answers: Mapping[Question, Any]) -> dict[str, bytes]:
    """The questions and their answers, one blob per resource they are about.

    Every question names the resource it is about second; answers are plain data (str,
    float, bool, None, and lists and dicts of those), all of which marshal keeps exactly.
    """
    by_key: dict[str, dict[Question, Any]] = {}
    for question, answer in answers.items():
        by_key.setdefault(question[1], {})[question] = answer
    return {key: marshal.dumps(asked) for key, asked in by_key.items()}


def _unpack(packed: Mapping[str, bytes], keys: Iterable[str]) -> dict[Question, Any]:
    """The questions about ``keys`` and their answers, as ``_pack`` was given them."""
    found: dict[Question, Any] = {}
    for key in keys:
        if key in packed:
            # Merged in C: a recall after a change unpacks every unchanged resource's blob.
            found.update(marshal.loads(packed[key]))  # noqa: S302 - our own bytes
    return found


def _newest(kept: OrderedDict[Identity, T], identity: Identity, value: T, most: int) -> None:
    """Keep ``value`` for ``identity`` as the newest of at most ``most``; the oldest go."""
    kept[identity] = value
    kept.move_to_end(identity)
    while len(kept) > most:
        del kept[next(iter(kept))]


@dataclass(frozen=True)
class Miss:
    """A request the memo cannot answer, and what it found out that composing can use.

    Attributes:
        identity: which XR the request is for (``fingerprints.identity``); None if it
            names none, and then nothing is kept.
        inputs: the request's ``fingerprints.inputs``.
        digests: each observed resource's fingerprint, kept with the composed answer so
            that it is taken once per call.
        known: answers composing need not read again: the previous ones about resources
            that did not change (the same questions get the same answers), and those the
            recall read afresh about the resources that did.
        parsed: the spec and input as the previous answer validated them, when they are
            unchanged since.
        built: what composing the previous answer built (``compose``'s ``before``), given
            with ``parsed``.
        packed: ``known`` packed (``_pack``), the unchanged resources' blobs as they were.
    """

    identity: Identity | None
    inputs: tuple[bytes, bytes]
    digests: dict[str, bytes]
    known: dict[Question, Any]
    parsed: Parsed | None = None
    built: Built | None = None
    packed: dict[str, bytes] | None = None


class Memo:
    """The last answer per XR, least recently used first out, within a memory budget."""

    def __init__(self, budget_bytes: int) -> None:
        """Remember answers costing at most ``budget_bytes`` in all; 0 remembers none.

        Besides, ``pieces`` keeps encoded manifests for composing, within 1/PIECES_SHARE of that.
        """
        self.budget = budget_bytes
        self.pieces = Pieces(budget_bytes // PIECES_SHARE)
        self.used = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Identity, _Entry] = OrderedDict()
        self._parsed: OrderedDict[Identity, tuple[tuple[bytes, bytes], Parsed]] = OrderedDict()
        self._built: OrderedDict[Identity, Built] = OrderedDict()
        # The answers each entry was made from, as ``_unpack`` gives them from its blobs.
        self._unpacked: OrderedDict[Identity, dict[Question, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many XRs have an answer remembered."""
        return len(self._entries)

    def recall(self, req: shallow.Request) -> Encoded | Miss:
        """The remembered answer to ``req`` (with its tag), or a Miss: it must be composed."""
        xr = shallow.composite(req)
        identity = fingerprints.identity(xr)
        miss = Miss(identity, fingerprints.inputs(req, xr), fingerprints.digests(req), {})
        if identity is None:
            self._count(hit=False)
            return miss
        with self._lock:
            entry = self._entries.get(identity)
            # Read with the entry: a composition kept meanwhile replaces both.
            unpacked = self._unpacked.get(identity)
        if entry is None:
            self._count(hit=False)
            return miss
        changed = fingerprints.changes(entry.digests, miss.digests)
        if miss.inputs != entry.inputs:
            return self._miss(entry, miss, changed, None)
        tag = req.meta.tag
        # The tag promises an identical request, but the observed resources are checked
        # all the same: a client breaking that promise must never get an answer that
        # leaves out a resource it now observes.
        if tag == entry.tag and not changed:
            self._count(hit=True, identity=identity)
            return Encoded(entry.data)
        # Questions about an unchanged resource get the same answers: only the rest are asked.
        resources = req.observed.resources
        views = {name: shallow.view(resources[name]) for name in changed & set(resources)}
        asked = _unpack(entry.answers, changed)
        fresh = Observed(views).fresh(asked)
        if not all(same(fresh[question], old) for question, old in asked.items()):
            # The answers just read are right for this request: composing need not read them.
            parsed, built = self._validated(identity, miss.inputs)
            miss = dataclasses.replace(miss, known=fresh, parsed=parsed, built=built)
            return self._miss(entry, miss, changed, unpacked)
        again = entry.retagged(tag, miss.digests)
        with self._lock:
            self._store(identity, again)
        self._count(hit=True)
        return Encoded(again.data)

    def _miss(
        self,
        entry: _Entry,
        miss: Miss,
        changed: set[str],
        unpacked: dict[Question, Any] | None,
    ) -> Miss:
        """``miss`` knowing also the answers about every resource that did not change.

        ``unpacked``: the entry's answers as kept unpacked, if they are, and if
        ``miss.known`` answers each of their questions about the resources that changed
        (then merged over them, it leaves the answers about the rest).
        """
        self._count(hit=False)
        if unpacked is None:
            unpacked = _unpack(entry.answers, entry.answers.keys() - changed)
        kept = {key: blob for key, blob in entry.answers.items() if key not in changed}
        # miss.known is about the changed resources alone: no blob of theirs is kept.
        packed = {**kept, **_pack(miss.known)}
        return dataclasses.replace(miss, known={**unpacked, **miss.known}, packed=packed)

    def keep(self, tag: str, miss: Miss, outcome: Outcome, answer: Spliced) -> bytes | None:
        """Remember ``answer``, made as ``outcome`` says, for the request tagged ``tag``.

        Returns:
            The answer's bytes, or None if nothing is kept (the XR has no name).
        """
        if miss.identity is None:
            return None
        # Deterministic serialization writes fields in field-number order, meta (1) first,
        # so another tag's answer is its meta field and the rest of these bytes.
        head = _meta(tag, answer.meta)
        data = answer.data
        if not data.startswith(head):
            return None  # a protobuf runtime that orders fields otherwise: nothing is kept
        # Composing answered each question it was told the answer to as told: when it asked
        # those questions alone, it gave those answers, and their blobs are made already.
        if miss.packed is not None and outcome.answers.keys() == miss.known.keys():
            answers = miss.packed
        else:
            answers = _pack(outcome.answers)
        cost = _cost(data, miss.inputs, miss.digests, answers)
        entry = _Entry(tag, miss.inputs, miss.digests, answers, data, len(head), cost)
        with self._lock:
            self._store(miss.identity, entry)
            _newest(self._unpacked, miss.identity, outcome.answers, BUILT_KEPT)
            if outcome.parsed is not None:
                _newest(self._parsed, miss.identity, (miss.inputs, outcome.parsed), PARSED_KEPT)
            if outcome.built is not None:
                _newest(self._built, miss.identity, outcome.built, BUILT_KEPT)
        return data

    def _validated(
        self, identity: Identity, inputs: tuple[bytes, bytes]
    ) -> tuple[Parsed | None, Built | None]:
        """What was validated for ``identity`` when made of ``inputs``, and built of it, if kept."""
        with self._lock:
            kept, built = self._parsed.get(identity), self._built.get(identity)
        if kept is None or kept[0] != inputs:
            return None, None
        return kept[1], built

    def _count(self, *, hit: bool, identity: Identity | None = None) -> None:
        with self._lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1
            if identity is not None and identity in self._entries:
                self._entries.move_to_end(identity)

    def _store(self, identity: Identity, entry: _Entry) -> None:
        """Replace ``identity``'s entry, making room; call with the lock held."""
        self._forget(identity)
        if entry.cost > self.budget:
            return
        while self.used + entry.cost > self.budget:
            self._forget(next(iter(self._entries)))
        self._entries[identity] = entry
        self.used += entry.cost

    def _forget(self, identity: Identity) -> None:
        entry = self._entries.pop(identity, None)
        if entry is not None:
            self.used -= entry.cost
