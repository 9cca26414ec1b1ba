"""The exception tree: one root, default messages from docstrings, details kept."""

from __future__ import annotations

import pytest

from jobyard.domain import errors
from jobyard.domain.errors import (
    Conflict,
    IdempotencyConflict,
    InvalidInput,
    InvalidQuery,
    JobyardError,
)

ALL = [
    errors.InvalidInput,
    errors.InvalidQuery,
    errors.Unauthenticated,
    errors.Forbidden,
    errors.NotFound,
    errors.Conflict,
    errors.IdempotencyConflict,
    errors.PayloadTooLarge,
]


@pytest.mark.parametrize("cls", ALL)
def test_every_error_descends_from_the_root_and_has_its_own_code(
    cls: type[JobyardError],
) -> None:
    assert issubclass(cls, JobyardError)
    assert cls.code != JobyardError.code
    assert cls.__doc__ is not None
    assert cls().message == cls.__doc__.strip()


def test_codes_are_unique() -> None:
    codes = [cls.code for cls in ALL]
    assert len(set(codes)) == len(codes)


def test_subtypes_are_caught_by_their_parents() -> None:
    assert issubclass(InvalidQuery, InvalidInput)
    assert issubclass(IdempotencyConflict, Conflict)


def test_message_and_details_are_kept() -> None:
    e = IdempotencyConflict("key reused", idempotency_key="k1")
    assert str(e) == "key reused"
    assert e.details == {"idempotency_key": "k1"}
    assert e.code == "idempotency_conflict"
