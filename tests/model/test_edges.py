"""The edges table: one place for who needs whom, consistent enough to derive both orders from."""

from __future__ import annotations

from function.model import keys
from function.model.edges import EDGES, USAGES

# Every key and role the table may name: the module's string constants.
NAMES = {value for name, value in vars(keys).items() if name.isupper() and isinstance(value, str)}


def test_every_end_is_a_known_key_or_role() -> None:
    """An edge names keys (or roles) from ``keys``, so a typo cannot silently match nothing."""
    assert {end for edge in EDGES for end in (edge.user, edge.used)} <= NAMES


def test_no_edge_twice_and_none_to_itself() -> None:
    """Each pair appears once, and nothing waits for itself."""
    pairs = [(edge.user, edge.used) for edge in EDGES]
    assert len(pairs) == len(set(pairs))
    assert all(user != used for user, used in pairs)


def test_every_edge_says_why() -> None:
    """The reason is the documentation of the order: no edge goes without one."""
    assert all(edge.why.strip() for edge in EDGES)


def test_usages_have_one_place_each() -> None:
    """The Usages are placed 1..n, each place taken once, so their order is fully defined."""
    assert [edge.usage for edge in USAGES] == list(range(1, len(USAGES) + 1))


def test_creation_order_exists() -> None:
    """No resource waits, however indirectly, for itself: there is an order to create them in."""
    needs: dict[str, set[str]] = {}
    for edge in EDGES:
        needs.setdefault(edge.user, set()).add(edge.used)
    created: set[str] = set()
    waiting = set(needs) | {edge.used for edge in EDGES}
    while waiting:
        ready = {name for name in waiting if needs.get(name, set()) <= created}
        assert ready, f"these wait for each other: {sorted(waiting)}"
        created |= ready
        waiting -= ready
