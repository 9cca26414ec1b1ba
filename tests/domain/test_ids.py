"""Job ids: UUIDv7 in canonical form, ordered by creation time."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobyard.domain.ids import is_id, new_id


def test_new_ids_are_canonical_uuid7() -> None:
    value = new_id()
    assert uuid.UUID(value).version == 7
    assert value == str(uuid.UUID(value))
    assert is_id(value)


def test_new_ids_grow_so_newest_first_is_id_order() -> None:
    ids = [new_id() for _ in range(2000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


@given(st.uuids())
def test_every_canonical_uuid_is_an_id(value: uuid.UUID) -> None:
    assert is_id(str(value))


@pytest.mark.parametrize(
    "value",
    [
        "",
        "42",
        "not-an-id",
        "0190a1b2c3d4e5f60718293a4b5c6d7e",  # hex without dashes
        "{0190a1b2-c3d4-e5f6-0718-293a4b5c6d7e}",
        "urn:uuid:0190a1b2-c3d4-e5f6-0718-293a4b5c6d7e",
        # Upper case names the same UUID, but the SQLite backend stores ids as lowercase hex:
        # only the canonical form may reach the store, or the backends would disagree.
        "0190A1B2-C3D4-E5F6-0718-293A4B5C6D7E",
        " 0190a1b2-c3d4-e5f6-0718-293a4b5c6d7e",
    ],
)
def test_other_spellings_are_not_ids(value: str) -> None:
    assert not is_id(value)
