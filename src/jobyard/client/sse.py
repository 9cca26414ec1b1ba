"""Reading a Server-Sent Events stream, line by line, for the clients' `tail_logs`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Event:
    event: str
    data: str
    id: str | None


@dataclass
class EventParser:
    """Feed it the stream's lines; it answers an Event at each blank line that ends one."""

    _name: str = "message"
    _data: list[str] = field(default_factory=list)
    _id: str | None = None

    def feed(self, line: str) -> Event | None:
        if not line:
            event = Event(self._name, "\n".join(self._data), self._id) if self._data else None
            self._name, self._data, self._id = "message", [], None
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._name = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            self._id = value
        return None
