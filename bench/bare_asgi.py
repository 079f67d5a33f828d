"""A bare ASGI app returning a fixed JSON body: the ceiling a Python server reaches on this box.

Run as ``python bench/bare_asgi.py PORT BODY_SIZE``; served by uvicorn with the same options as
``motorpool serve`` (uvloop, httptools, no access log)."""

from __future__ import annotations

import sys

import uvicorn


def make_app(size: int):  # type: ignore[no-untyped-def]
    filler = "x" * max(0, size - len('{"data":""}'))
    body = ('{"data":"' + filler + '"}').encode()
    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    }
    message = {"type": "http.response.body", "body": body}

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        await send(start)
        await send(message)

    return app


if __name__ == "__main__":
    port, size = int(sys.argv[1]), int(sys.argv[2])
    uvicorn.run(make_app(size), host="127.0.0.1", port=port, loop="uvloop", http="httptools", log_level="warning", access_log=False, lifespan="off")
