"""Parsing of the APIs' common parameters: ids, paging and HTTP Basic credentials."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import ApiError, AuthenticationError, ValidationFailed

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 10
#: Far past any real collection, and small enough that an offset fits every database's integers.
MAX_PAGE_NUMBER = 1_000_000
#: The largest v2 ``offset``: as far as the largest page of v3 reaches (an offset past 2^63 would
#: overflow the database's integers: a 500 before this bound).
MAX_OFFSET = MAX_PAGE_NUMBER * MAX_PAGE_SIZE

_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def parse_uuid(value: str, what: str, *, parameter: str | None = None) -> str:
    """The canonical form of a UUID, or a VALIDATION error naming what was malformed."""
    if isinstance(value, str) and _CANONICAL_UUID.fullmatch(value):
        return value  # the common case, checked without building a UUID object
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise ValidationFailed(
            f"The {what} '{value}' is not a valid UUID.",
            code="INVALID_INPUT_FORMAT",
            source={"parameter": parameter or what},
        ) from None


@dataclass(frozen=True)
class Paging:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def parse_paging(query: Mapping[str, str], default_size: int = DEFAULT_PAGE_SIZE) -> Paging:
    """Accept ``page[number]``/``page[size]`` and ``page``/``pageSize`` alike."""
    raw_number = query.get("page[number]", query.get("page"))
    raw_size = query.get("page[size]", query.get("pageSize"))
    problems: list[ApiError] = []
    number, size = 1, default_size
    if raw_number is not None:
        try:
            number = int(raw_number)
            if not 1 <= number <= MAX_PAGE_NUMBER:
                raise ValueError
        except ValueError:
            problems.append(
                ValidationFailed(
                    f"The page number '{raw_number}' must be a whole number from 1 to {MAX_PAGE_NUMBER:,}.",
                    source={"parameter": "page[number]"},
                )
            )
    if raw_size is not None:
        try:
            size = int(raw_size)
            if not 1 <= size <= MAX_PAGE_SIZE:
                raise ValueError
        except ValueError:
            problems.append(
                ValidationFailed(
                    f"The page size '{raw_size}' must be a whole number from 1 to {MAX_PAGE_SIZE}.",
                    source={"parameter": "page[size]"},
                )
            )
    if problems:
        first = problems[0]
        first.extra_errors = problems[1:]
        raise first
    return Paging(number, size)




def basic_credentials(authorization: str | None, what: str) -> tuple[str, str]:
    """The user name and password of an ``Authorization: Basic`` header, or a 401
    ``AUTHENTICATION`` error saying what was expected (``what``)."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise AuthenticationError(
            f"Send 'Authorization: Basic base64({what})'.",
            code=None,
            headers={"WWW-Authenticate": 'Basic realm="motorpool"'},
        )
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise AuthenticationError(
            f"The Basic credentials are not valid base64 of {what}.",
            code=None,
            headers={"WWW-Authenticate": 'Basic realm="motorpool"'},
        ) from None
    user, _, password = decoded.partition(":")
    return user, password
