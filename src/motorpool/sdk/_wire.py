"""HTTP/1.1 without I/O: request heads out, answers in.

The default senders (:mod:`._http`) speak HTTP/1.1 themselves, over asyncio transports and over
blocking sockets, with the pieces here. A connection owns one :class:`ResponseReader`: the
transport receives straight into the reader's buffer (:meth:`~ResponseReader.get_buffer`), the
reader is told how many bytes arrived (:meth:`~ResponseReader.feed`) and hands back each answer
once it is whole. An answer that fits the buffer becomes its body with a single copy; nothing is
decoded or decompressed unless the answer asks for it.

Bodies are framed by ``Content-Length``, by chunked transfer coding, or by the server closing
the connection; informational (1xx) answers are skipped; answers to ``HEAD`` and 204/304
answers have no body.
"""

from __future__ import annotations

import re
import ssl
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar, overload
from urllib.parse import quote, urlsplit

_T = TypeVar("_T")

#: Bytes a connection receives into at once; an answer of this size or less is read in place.
BUFFER_SIZE = 64 * 1024
#: A connection's buffer grows to hold a larger answer whole, up to this size; beyond it the
#: body is received into a buffer of its own.
MAX_BUFFER_SIZE = 256 * 1024
#: The longest status line and headers accepted.
MAX_HEAD_SIZE = 64 * 1024

ACCEPT_ENCODING = "gzip, deflate"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ProtocolError(Exception):
    """The bytes received are not an HTTP/1.x answer."""


class ConnectionClosed(Exception):
    """The server closed the connection before the answer was complete.

    ``received`` tells whether any byte of the answer had arrived: a connection kept alive
    that closes before the first byte was most likely closed by the server while idle.
    """

    def __init__(self, received: bool) -> None:
        super().__init__(
            "the server closed the connection before answering"
            if not received
            else "the server closed the connection in the middle of its answer"
        )
        self.received = received


class Headers(Mapping[str, str]):
    """An answer's headers, looked up without regard to case.

    Iterating gives lower-case names; a header sent several times reads as its values joined
    with ``", "`` (as HTTP allows), and :meth:`get_list` gives them one by one. ``raw`` holds
    every (name, value) pair as received.
    """

    __slots__ = ("_lines", "_raw", "_values")

    def __init__(self, values: dict[str, str], lines: list[str] | None = None) -> None:
        self._values = values  # lower-case name -> value
        self._lines = lines  # the header lines as received, read for ``raw`` when asked
        self._raw: list[tuple[str, str]] | None = None

    @property
    def raw(self) -> list[tuple[str, str]]:
        """Every header as received: (name as sent, value), in order."""
        if self._raw is None:
            self._raw = _pairs(self._lines or [])
        return self._raw

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    @overload
    def get(self, name: str, /) -> str | None: ...

    @overload
    def get(self, name: str, /, default: str | _T) -> str | _T: ...

    def get(self, name: str, /, default: object = None) -> object:
        """The header's value, or ``default``."""
        return self._values.get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def get_list(self, name: str) -> list[str]:
        """Every value of a header sent once or more, in order."""
        key = name.lower()
        return [value for raw_name, value in self.raw if raw_name.lower() == key]

    def __repr__(self) -> str:
        return f"Headers({self._values!r})"


def _pairs(lines: list[str]) -> list[tuple[str, str]]:
    """(name, value) pairs of header lines, continuation lines folded into the previous value."""
    pairs: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            if not pairs:
                raise ProtocolError("the headers start with a continuation line")
            name, value = pairs[-1]
            folded = line.strip(" \t")
            pairs[-1] = (name, f"{value} {folded}")
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name[-1] in " \t":
            raise ProtocolError(f"bad header line {line[:40]!r}")
        pairs.append((name, value.strip(" \t")))
    return pairs


def _joined(pairs: list[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        previous = values.get(key)
        values[key] = value if previous is None else f"{previous}, {value}"
    return values


# --- requests -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a URL's requests go: scheme, host and port, and the ``Host`` header they carry."""

    scheme: str
    host: str
    port: int
    host_header: str

    @property
    def tls(self) -> bool:
        """True for https."""
        return self.scheme == "https"


def parse_origin(origin: str) -> Origin:
    """The :class:`Origin` of ``scheme://host[:port]`` (a ValueError if it is not http(s))."""
    parts = urlsplit(origin)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {origin!r}")
    default = 443 if scheme == "https" else 80
    port = parts.port or default
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    return Origin(scheme, host, port, shown if port == default else f"{shown}:{port}")


def split_url(url: str) -> tuple[str, str]:
    """``url`` as (origin, request target): ``http://h:1/a?b`` gives ``http://h:1`` and ``/a?b``."""
    start = url.find("://")
    if start < 0:
        raise ValueError(f"not an absolute URL: {url!r}")
    cut = len(url)
    for mark in "/?#":
        found = url.find(mark, start + 3)
        if 0 <= found < cut:
            cut = found
    target = url[cut:].partition("#")[0]
    if not target.startswith("/"):
        target = "/" + target
    return url[:cut], target


# Characters that may stand as they are in a request target (RFC 3986 pchar, "/", "?", "%").
_TARGET = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*")


def encode_head(method: str, target: str, origin: Origin, headers: Mapping[str, str], length: int | None) -> bytes:
    """The request line and headers of a request, ready to send.

    Header names and values with a line break or a NUL are refused (a ValueError): they would
    let a value such as a user id smuggle headers of its own.
    """
    if not _TARGET.fullmatch(target):
        target = quote(target, safe="/?&=%:@!$'()*+,;~")
    parts = [method, " ", target, " HTTP/1.1\r\nhost: ", origin.host_header, "\r\n"]
    count = 1
    for name, value in headers.items():
        parts += (name, ": ", value, "\r\n")
        count += 1
    if "accept-encoding" not in headers:
        parts.append("accept-encoding: " + ACCEPT_ENCODING + "\r\n")
        count += 1
    if length is not None:
        parts.append(f"content-length: {length}\r\n")
        count += 1
    parts.append("\r\n")
    head = "".join(parts)
    if head.count("\n") != count + 2 or head.count("\r") != count + 2 or "\0" in head:
        raise ValueError("a header name or value contains a line break or a NUL character")
    return head.encode("utf-8")


def may_resend(method: str) -> bool:
    """True when a request may be sent again on a fresh connection after a kept-alive one was
    found closed before any answer: the method is safe, so even a duplicate does no harm."""
    return method in _SAFE_METHODS


# --- answers ------------------------------------------------------------------------------------

_IDLE, _HEAD, _LENGTH, _OWN_BUFFER, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILERS, _UNTIL_CLOSE = range(9)
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_DIGITS = re.compile(r"[0-9]{1,18}")

Answer = tuple[int, Headers, bytes]


class ResponseReader:
    """Turns the bytes of one connection into answers, one request at a time."""

    __slots__ = (
        "_body",
        "_body_view",
        "_buffer",
        "_end",
        "_got",
        "_head_only",
        "_headers",
        "_keep_alive",
        "_remaining",
        "_start",
        "_state",
        "_status",
        "_view",
        "received",
        "reusable",
    )

    def __init__(self) -> None:
        self._buffer = bytearray(BUFFER_SIZE)
        self._view = memoryview(self._buffer)
        self._start = 0  # first byte not yet parsed
        self._end = 0  # end of the bytes received
        self._state = _IDLE
        self._head_only = False
        self._status = 0
        self._headers: Headers | None = None
        self._keep_alive = True
        self._remaining = 0
        self._body: bytearray | None = None
        self._body_view: memoryview | None = None
        self._got = 0
        #: True once any byte of the expected answer arrived.
        self.received = False
        #: True when the connection may carry another request.
        self.reusable = True

    def expect(self, *, head_only: bool = False) -> None:
        """Get ready for the answer to a request just sent (``head_only`` for ``HEAD``)."""
        if self._state != _IDLE or self._end != self._start:
            raise ProtocolError("the connection is not idle")
        self._state = _HEAD
        self._head_only = head_only
        self.received = False

    @property
    def idle(self) -> bool:
        """True when no answer is expected."""
        return self._state == _IDLE

    def get_buffer(self) -> memoryview:
        """Where the next bytes received should go (never empty)."""
        if self._state == _OWN_BUFFER:
            assert self._body_view is not None
            return self._body_view[self._got :]
        if self._end == len(self._buffer):
            self._make_room(grow=self._start == 0)
        return self._view[self._end :]

    def feed(self, count: int) -> Answer | None:
        """``count`` bytes were written where :meth:`get_buffer` said; the answer if complete."""
        if count <= 0:
            return None
        self.received = True
        if self._state == _OWN_BUFFER:
            self._got += count
            assert self._body is not None
            return self._finish(bytes(self._body)) if self._got >= len(self._body) else None
        self._end += count
        return self._advance()

    def feed_eof(self) -> Answer | None:
        """The server closed its side: the answer it ended, or ConnectionClosed."""
        self.reusable = False
        if self._state == _UNTIL_CLOSE:
            self._advance()
            assert self._body is not None
            return self._finish(bytes(self._body))
        if self._state == _IDLE:
            return None
        raise ConnectionClosed(self.received)

    # --- parsing ---------------------------------------------------------------------------------

    def _advance(self) -> Answer | None:
        buffer = self._buffer
        while True:
            state = self._state
            if state == _LENGTH:
                start = self._start
                if self._end - start < self._remaining:
                    return None
                end = start + self._remaining
                self._start = end
                return self._finish(bytes(self._view[start:end]))
            if state == _HEAD:
                found = buffer.find(b"\r\n\r\n", self._start, self._end)
                if found < 0:
                    if self._end - self._start > MAX_HEAD_SIZE:
                        raise ProtocolError("the answer's headers are too large")
                    return None
                answer = self._read_head(found)
                if answer is not None:
                    return answer
                continue
            if state == _CHUNK_SIZE:
                found = buffer.find(b"\r\n", self._start, self._end)
                if found < 0:
                    if self._end - self._start > 4096:
                        raise ProtocolError("a chunk-size line is too long")
                    return None
                size_field = bytes(self._view[self._start : found]).split(b";", 1)[0].strip()
                if not _HEX.fullmatch(size_field):
                    raise ProtocolError(f"bad chunk size {size_field[:20]!r}")
                self._start = found + 2
                self._remaining = int(size_field, 16)
                self._state = _CHUNK_DATA if self._remaining else _TRAILERS
                continue
            if state == _CHUNK_DATA:
                available = self._end - self._start
                if not available:
                    return None
                taken = min(available, self._remaining)
                assert self._body is not None
                self._body += self._view[self._start : self._start + taken]
                self._start += taken
                self._remaining -= taken
                if not self._remaining:
                    self._state = _CHUNK_END
                continue
            if state == _CHUNK_END:
                if self._end - self._start < 2:
                    return None
                if buffer[self._start : self._start + 2] != b"\r\n":
                    raise ProtocolError("a chunk does not end with CRLF")
                self._start += 2
                self._state = _CHUNK_SIZE
                continue
            if state == _TRAILERS:
                if self._end - self._start < 2:
                    return None
                if buffer[self._start : self._start + 2] == b"\r\n":
                    self._start += 2
                else:
                    found = buffer.find(b"\r\n\r\n", self._start, self._end)
                    if found < 0:
                        if self._end - self._start > MAX_HEAD_SIZE:
                            raise ProtocolError("the answer's trailers are too large")
                        return None
                    self._start = found + 4
                assert self._body is not None
                return self._finish(bytes(self._body))
            if state == _UNTIL_CLOSE:
                assert self._body is not None
                self._body += self._view[self._start : self._end]
                self._start = self._end
                return None
            # Idle: nothing was asked for.
            if self._end > self._start:
                raise ProtocolError("the server sent bytes no request asked for")
            return None

    def _read_head(self, found: int) -> Answer | None:
        text = bytes(self._view[self._start : found]).decode("utf-8", "surrogateescape")
        self._start = found + 4
        lines = text.split("\r\n")
        status_line = lines[0]
        if not status_line.startswith("HTTP/1.") or len(status_line) < 12 or status_line[8] != " ":
            raise ProtocolError(f"not an HTTP/1.x answer: {status_line[:40]!r}")
        code = status_line[9:12]
        if not code.isdigit() or not code.isascii():
            raise ProtocolError(f"bad status line {status_line[:40]!r}")
        status = int(code)
        del lines[0]
        values: dict[str, str] = {}
        for line in lines:
            name, colon, value = line.partition(":")
            if not colon or not name or name[0] in " \t" or name[-1] in " \t":
                # A continuation line, or a malformed one: the careful parser decides.
                values = _joined(_pairs(lines))
                break
            key = name.lower()
            value = value.strip(" \t")
            values[key] = f"{values[key]}, {value}" if key in values else value
        if 100 <= status < 200 and status != 101:
            return None  # informational: the real answer follows
        headers = Headers(values, lines)
        self._status = status
        self._headers = headers
        connection = values.get("connection")
        if status_line[7] == "1":
            self._keep_alive = connection is None or "close" not in connection.lower()
        else:
            self._keep_alive = connection is not None and "keep-alive" in connection.lower()
        if self._head_only or status in (204, 304) or status < 200:
            if status < 200:
                self._keep_alive = False  # 101: the connection now speaks something else
            return self._finish(b"")
        coding = values.get("transfer-encoding")
        if coding is not None:
            self._body = bytearray()
            if coding.rsplit(",", 1)[-1].strip().lower() == "chunked":
                self._state = _CHUNK_SIZE
            else:
                self._keep_alive = False
                self._state = _UNTIL_CLOSE
            return None
        length = values.get("content-length")
        if length is None:
            self._body = bytearray()
            self._keep_alive = False
            self._state = _UNTIL_CLOSE
            return None
        if not _DIGITS.fullmatch(length):
            # Sent more than once, the values must agree.
            lengths = {part.strip() for part in length.split(",")}
            if len(lengths) != 1 or not _DIGITS.fullmatch(single := lengths.pop()):
                raise ProtocolError(f"bad content-length {length[:40]!r}")
            length = single
        self._remaining = int(length)
        if not self._remaining:
            return self._finish(b"")
        self._state = _LENGTH
        if self._start + self._remaining > len(self._buffer) and self._end - self._start < self._remaining:
            self._room_for_body()
        return None

    def _room_for_body(self) -> None:
        """Make the rest of a Content-Length body land where it can be kept in one piece."""
        held = self._view[self._start : self._end]
        if self._remaining <= MAX_BUFFER_SIZE:
            size = max(len(self._buffer), self._remaining)
            buffer = bytearray(size)
            buffer[: len(held)] = held
            self._end = len(held)
            self._start = 0
            self._set_buffer(buffer)
            return
        body = bytearray(self._remaining)
        body[: len(held)] = held
        self._got = len(held)
        self._start = self._end = 0
        self._body = body
        self._body_view = memoryview(body)
        self._state = _OWN_BUFFER

    def _make_room(self, *, grow: bool) -> None:
        held = bytes(self._view[self._start : self._end])
        size = len(self._buffer)
        if grow:
            if size >= MAX_HEAD_SIZE + BUFFER_SIZE:
                raise ProtocolError("the answer's headers are too large")
            size *= 2
        buffer = bytearray(size)
        buffer[: len(held)] = held
        self._start, self._end = 0, len(held)
        self._set_buffer(buffer)

    def _set_buffer(self, buffer: bytearray) -> None:
        self._buffer = buffer
        self._view = memoryview(buffer)

    def _finish(self, body: bytes) -> Answer:
        headers = self._headers
        assert headers is not None
        self._state = _IDLE
        self._body = self._body_view = None
        self._got = 0
        self._headers = None
        if self._start == self._end:
            self._start = self._end = 0
            if len(self._buffer) > MAX_BUFFER_SIZE:
                self._set_buffer(bytearray(BUFFER_SIZE))
        else:
            self._keep_alive = False  # bytes beyond the answer: the connection is out of step
        self.reusable = self.reusable and self._keep_alive
        return self._status, headers, decode_body(body, headers)


def decode_body(body: bytes, headers: Headers) -> bytes:
    """``body`` without the content coding the server applied (gzip or deflate), if any."""
    coding = headers.get("content-encoding")
    if coding is None or not body:
        return body
    for name in reversed([part.strip().lower() for part in coding.split(",")]):
        try:
            if name in ("gzip", "x-gzip"):
                body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
            elif name == "deflate":
                try:
                    body = zlib.decompress(body)
                except zlib.error:
                    body = zlib.decompress(body, -zlib.MAX_WBITS)
            elif name != "identity":
                raise ProtocolError(f"the answer uses a content coding the client did not offer: {name}")
        except zlib.error as error:
            raise ProtocolError(f"the answer's {name} body is corrupt: {error}") from error
    return body


def tls_context() -> ssl.SSLContext:
    """A verifying TLS context: the CA files named by ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when set,
    else certifi's bundle when installed (as httpx does), else the system's store."""
    import os

    if os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
        context = ssl.create_default_context()
    else:
        try:
            import certifi
        except ImportError:  # pragma: no cover - certifi comes with httpx
            context = ssl.create_default_context()
        else:
            context = ssl.create_default_context(cafile=certifi.where())
    context.set_alpn_protocols(["http/1.1"])
    return context
