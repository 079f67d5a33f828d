"""Smartcar's host names, which motorpool answers in zero-change mode, and the origin of the links
in an answer.

Every surface answers on any ``Host`` (a request is served by its path). When a request came on
one of Smartcar's names — through the CONNECT proxy, or a hosts-file line — the links in its
answer use that name, so a client that follows them stays on the name it used. Any other ``Host``
gets the configured public origin: a header a client may set freely never makes the platform
write links to a place of the client's choosing."""

from __future__ import annotations

from functools import lru_cache

#: The names the certificate of TLS mode covers and the CONNECT proxy tunnels.
SMARTCAR_HOSTS: tuple[str, ...] = (
    "iam.smartcar.com",
    "auth.smartcar.com",
    "connect.smartcar.com",
    "api.smartcar.com",
    "vehicle.api.smartcar.com",
    "management.smartcar.com",
    "management.api.smartcar.com",
    "compatibility.api.smartcar.com",
)
_SMARTCAR = frozenset(SMARTCAR_HOSTS)

#: The loopback names every server certificate covers as well.
LOCAL_NAMES: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")


def split_host(host: str) -> tuple[str, int | None]:
    """The name and port of a ``Host`` header or a CONNECT target: the name lower case, without
    brackets or a trailing dot (``[::1]:443`` gives ``("::1", 443)``); the port None when there is
    none. Raises ``ValueError`` for a port that is not a number from 1 to 65535."""
    host = host.strip()
    port = ""
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"not a host: {host!r}")
            port = rest[1:]
    elif host.count(":") == 1:
        name, _, port = host.partition(":")
    else:
        name = host
    if port and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"not a port: {port!r}")
    return name.rstrip(".").lower(), int(port) if port else None


def is_smartcar_host(host: str) -> bool:
    """Whether ``host`` (a ``Host`` header, with or without its port) names one of Smartcar's
    hosts."""
    try:
        return split_host(host)[0] in _SMARTCAR
    except ValueError:
        return False


@lru_cache(maxsize=256)  # on every request: a hit costs a dictionary look-up
def link_origin(scheme: str, host: str | None, default: str) -> str:
    """The origin of the links in an answer to a request that came on ``host`` over ``scheme``:
    that host (and its port) when it is one of Smartcar's names, else ``default`` (the public
    origin)."""
    if not host:
        return default
    try:
        name, port = split_host(host)
    except ValueError:
        return default
    if name not in _SMARTCAR:
        return default
    return f"{scheme}://{name}" if port is None else f"{scheme}://{name}:{port}"


# --- the hosts file -----------------------------------------------------------------------------

HOSTS_BEGIN = "# motorpool: Smartcar's host names on this machine (motorpool hosts --remove)"
HOSTS_END = "# end of motorpool's lines"


def hosts_block(address: str = "127.0.0.1") -> str:
    """The hosts-file lines that send Smartcar's host names to ``address``, between markers."""
    lines = [HOSTS_BEGIN, *(f"{address} {host}" for host in SMARTCAR_HOSTS), HOSTS_END]
    return "\n".join(lines) + "\n"


def without_hosts_block(text: str) -> str:
    """``text`` (a hosts file) without motorpool's lines, everything else kept as it was."""
    kept: list[str] = []
    inside = False
    for line in text.splitlines(keepends=True):
        marker = line.rstrip("\r\n")
        if marker == HOSTS_BEGIN:
            inside = True
        elif inside and marker == HOSTS_END:
            inside = False
        elif not inside:
            kept.append(line)
    return "".join(kept)


def with_hosts_block(text: str, address: str = "127.0.0.1") -> str:
    """``text`` (a hosts file) with motorpool's lines at the end, once, whatever it held."""
    kept = without_hosts_block(text)
    if kept and not kept.endswith("\n"):
        kept += "\n"
    return kept + hosts_block(address)
