"""The HTTP/1.1 reader and request encoder of the default senders, without sockets.

Answers are fed as a transport would: written into the buffer the reader hands out, in pieces
of every size, so each framing (Content-Length, chunked, until close) is read across every
possible split.
"""

from __future__ import annotations

import gzip
import zlib

import pytest

from motorpool.sdk._wire import (
    BUFFER_SIZE,
    MAX_BUFFER_SIZE,
    ConnectionClosed,
    Headers,
    ProtocolError,
    ResponseReader,
    encode_head,
    parse_origin,
    split_url,
)


def feed(reader: ResponseReader, data: bytes, piece: int | None = None, *, eof: bool = False) -> list[tuple[int, Headers, bytes]]:
    """Deliver ``data`` in pieces of at most ``piece`` bytes; the answers completed on the way."""
    answers = []
    position = 0
    while position < len(data):
        buffer = reader.get_buffer()
        assert len(buffer) > 0
        size = min(len(buffer), len(data) - position, piece or len(data))
        buffer[:size] = data[position : position + size]
        position += size
        answer = reader.feed(size)
        if answer is not None:
            answers.append(answer)
    if eof:
        answer = reader.feed_eof()
        if answer is not None:
            answers.append(answer)
    return answers


def read_one(data: bytes, piece: int | None = None, *, head_only: bool = False, eof: bool = False) -> tuple[int, Headers, bytes]:
    reader = ResponseReader()
    reader.expect(head_only=head_only)
    answers = feed(reader, data, piece, eof=eof)
    assert len(answers) == 1, answers
    return answers[0]


def chunked(body: bytes, size: int) -> bytes:
    out = b""
    for start in range(0, len(body), size):
        part = body[start : start + size]
        out += f"{len(part):x};ext=1\r\n".encode() + part + b"\r\n"
    return out + b"0\r\nx-trailer: yes\r\n\r\n"


BODY = bytes(range(256)) * 40  # 10 KB, every byte value


@pytest.mark.parametrize("piece", [1, 2, 3, 7, 100, 4096, None])
def test_content_length_answers_read_across_any_split(piece: int | None) -> None:
    data = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nSC-Request-Id: r-1\r\n\r\n" % len(BODY) + BODY
    status, headers, body = read_one(data, piece)
    assert (status, body) == (200, BODY)
    assert headers["sc-request-id"] == headers["SC-REQUEST-ID"] == "r-1"


@pytest.mark.parametrize("piece", [1, 5, 64, None])
def test_chunked_answers_with_extensions_and_trailers(piece: int | None) -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(BODY, 777)
    reader = ResponseReader()
    reader.expect()
    [(status, _, body)] = feed(reader, data, piece)
    assert (status, body) == (200, BODY)
    assert reader.reusable


def test_an_answer_without_length_runs_until_the_server_closes() -> None:
    reader = ResponseReader()
    reader.expect()
    assert feed(reader, b"HTTP/1.1 200 OK\r\n\r\n" + BODY, 999) == []
    [(status, _, body)] = feed(reader, b"", eof=True)
    assert (status, body) == (200, BODY)
    assert not reader.reusable


def test_http_1_0_closes_unless_kept_alive() -> None:
    reader = ResponseReader()
    reader.expect()
    feed(reader, b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert not reader.reusable
    reader = ResponseReader()
    reader.expect()
    feed(reader, b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok")
    assert reader.reusable


def test_connection_close_ends_reuse() -> None:
    reader = ResponseReader()
    reader.expect()
    feed(reader, b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    assert not reader.reusable


def test_one_connection_reads_answer_after_answer() -> None:
    reader = ResponseReader()
    for number in range(300):
        reader.expect()
        body = str(number).encode() * (number % 7)
        [(status, _, received)] = feed(reader, b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n" % len(body) + body, 13)
        assert (status, received) == (201, body)
        assert reader.reusable and reader.idle


@pytest.mark.parametrize("size", [BUFFER_SIZE - 10, BUFFER_SIZE * 3, MAX_BUFFER_SIZE + 1, MAX_BUFFER_SIZE * 3])
@pytest.mark.parametrize("piece", [65536, 1000])
def test_bodies_larger_than_the_buffer(size: int, piece: int) -> None:
    body = bytes(range(251)) * (size // 251 + 1)
    body = body[:size]
    reader = ResponseReader()
    for _ in range(2):
        reader.expect()
        [(_, _, received)] = feed(reader, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + body, piece)
        assert received == body
        assert reader.reusable


def test_informational_answers_are_skipped() -> None:
    data = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    status, headers, body = read_one(data, 3)
    assert (status, body) == (200, b"ok")
    assert "link" not in headers


@pytest.mark.parametrize("status", [204, 304])
def test_bodiless_statuses(status: int) -> None:
    reader = ResponseReader()
    reader.expect()
    [(got, _, body)] = feed(reader, b"HTTP/1.1 %d X\r\nContent-Length: 10\r\n\r\n" % status)
    assert (got, body) == (status, b"")
    assert reader.reusable


def test_head_answers_have_no_body() -> None:
    status, headers, body = read_one(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", head_only=True)
    assert (status, body, headers["content-length"]) == (200, b"", "500")


def test_repeated_headers_are_joined_and_listed_in_order() -> None:
    data = b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Long: one\r\n  two\r\nset-cookie: b=2\r\nContent-Length: 0\r\n\r\n"
    _, headers, _ = read_one(data)
    assert headers["Set-Cookie"] == "a=1, b=2"
    assert headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert headers["x-long"] == "one two"
    assert headers.raw[0] == ("Set-Cookie", "a=1")
    assert set(headers) == {"set-cookie", "x-long", "content-length"}
    assert headers.get("missing") is None and headers.get("missing", "d") == "d"
    assert "SET-COOKIE" in headers and 3 not in headers


def test_gzip_and_deflate_bodies_are_decoded() -> None:
    for coding, packed in (
        ("gzip", gzip.compress(BODY)),
        ("deflate", zlib.compress(BODY)),
        ("deflate", zlib.compress(BODY, wbits=-15)),
    ):
        data = f"HTTP/1.1 200 OK\r\nContent-Encoding: {coding}\r\nContent-Length: {len(packed)}\r\n\r\n".encode() + packed
        assert read_one(data, 500)[2] == BODY


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/2 200 OK\r\n\r\n",
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 2x0 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nName : value\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 1\r\n\r\nx",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nnope",
    ],
)
def test_malformed_answers_are_protocol_errors(data: bytes) -> None:
    reader = ResponseReader()
    reader.expect()
    with pytest.raises(ProtocolError):
        feed(reader, data)


def test_agreeing_repeated_content_lengths_are_accepted() -> None:
    assert read_one(b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok")[2] == b"ok"


def test_oversized_headers_are_refused() -> None:
    reader = ResponseReader()
    reader.expect()
    with pytest.raises(ProtocolError):
        feed(reader, b"HTTP/1.1 200 OK\r\n" + b"X-Filler: " + b"a" * 200_000 + b"\r\n\r\n", 4096)


def test_bytes_nobody_asked_for_are_an_error() -> None:
    reader = ResponseReader()
    with pytest.raises(ProtocolError):
        feed(reader, b"HTTP/1.1 408 Request Timeout\r\n\r\n")


def test_a_close_mid_answer_says_whether_anything_arrived() -> None:
    reader = ResponseReader()
    reader.expect()
    with pytest.raises(ConnectionClosed) as before:
        reader.feed_eof()
    assert not before.value.received
    reader = ResponseReader()
    reader.expect()
    feed(reader, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    with pytest.raises(ConnectionClosed) as during:
        reader.feed_eof()
    assert during.value.received


def test_a_closed_idle_connection_is_just_not_reusable() -> None:
    reader = ResponseReader()
    assert reader.feed_eof() is None
    assert not reader.reusable


# --- requests -----------------------------------------------------------------------------------


def test_request_heads() -> None:
    origin = parse_origin("http://127.0.0.1:8000")
    head = encode_head("GET", "/v3/x?a=1", origin, {"sc-user-id": "u-1", "accept": "application/json"}, None)
    assert head == (
        b"GET /v3/x?a=1 HTTP/1.1\r\nhost: 127.0.0.1:8000\r\nsc-user-id: u-1\r\naccept: application/json\r\n"
        b"accept-encoding: gzip, deflate\r\n\r\n"
    )
    head = encode_head("POST", "/t", parse_origin("https://api.example.com"), {}, 5)
    assert head.startswith(b"POST /t HTTP/1.1\r\nhost: api.example.com\r\n")
    assert head.endswith(b"content-length: 5\r\n\r\n")


@pytest.mark.parametrize("value", ["a\r\nx-injected: 1", "a\nb", "a\rb", "a\0b"])
def test_line_breaks_in_headers_are_refused(value: str) -> None:
    origin = parse_origin("http://h")
    with pytest.raises(ValueError, match="line break"):
        encode_head("GET", "/", origin, {"sc-user-id": value}, None)
    with pytest.raises(ValueError, match="line break"):
        encode_head("GET", "/", origin, {value: "v"}, None)


def test_targets_outside_ascii_are_quoted() -> None:
    head = encode_head("GET", "/v3/vehicles/é è", parse_origin("http://h"), {}, None)
    assert head.startswith(b"GET /v3/vehicles/%C3%A9%20%C3%A8 HTTP/1.1\r\n")


def test_urls_split_into_origin_and_target() -> None:
    assert split_url("http://h:1/a/b?c=d#frag") == ("http://h:1", "/a/b?c=d")
    assert split_url("https://h") == ("https://h", "/")
    assert split_url("https://h?x=1") == ("https://h", "/?x=1")
    with pytest.raises(ValueError):
        split_url("/relative")


def test_origins() -> None:
    assert parse_origin("https://Api.Example.com").host_header == "api.example.com"
    assert parse_origin("https://h:443").host_header == "h"
    assert parse_origin("http://h:8080").port == 8080
    assert parse_origin("http://[::1]:8080").host_header == "[::1]:8080"
    assert parse_origin("https://h").tls and not parse_origin("http://h").tls
    with pytest.raises(ValueError):
        parse_origin("ftp://h")
