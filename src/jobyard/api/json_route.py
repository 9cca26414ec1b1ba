"""Routes that read JSON bodies with orjson: the worker protocol's and the jobs' batches are the
largest bodies the server reads, and the standard library's reader (Starlette's) takes about
twice as long on them. What orjson refuses but the standard library reads (NaN, lone surrogates,
UTF-16) goes to the standard library, and so does any body with 19 digits in a row (orjson
reads an integer past 64 bits as a float, where it must stay the integer it is, to be refused
by the field that cannot keep it): every body reads as before, every error is the one it was.
A route may read its body its own way first (`reading`): the worker protocol's batches do
(`schemas/update_batches.py`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute

# 19 digits in a row, found as 19 zeros once every digit is a zero: a translation and a plain
# search, 15 times as fast as the regular expression `\d{19}` (which took longer than orjson
# took to read the body).
_DIGITS_AS_ZEROS = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19


# A route's own reader of its body: what the body is read as, or None to read it as JSON.
BodyReader = Callable[[bytes], Any]


class OrjsonRequest(Request):
    reader: BodyReader | None = None

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            if self.reader is not None:
                read = self.reader(body)
                if read is not None:
                    self._json = read
                    return read
            try:
                if _LONG_NUMBER in body.translate(_DIGITS_AS_ZEROS):
                    raise orjson.JSONDecodeError("left to the standard library", "", 0)
                self._json = orjson.loads(body)
            except orjson.JSONDecodeError:
                self._json = json.loads(body)
        return self._json


class JsonRoute(APIRoute):
    reader: BodyReader | None = None  # a subclass's, for its routes' bodies

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        reader = self.reader

        async def route(request: Request) -> Response:
            ours = OrjsonRequest(request.scope, request.receive)
            ours.reader = reader
            return await handle(ours)

        return route


def reading(reader: BodyReader) -> type[JsonRoute]:
    """A `JsonRoute` whose routes try `reader` on their bodies first (`route_class_override`)."""
    return type("ReadingRoute", (JsonRoute,), {"reader": staticmethod(reader)})
