"""Where a seed's CPU goes: ``motorpool vehicles seed`` into a fresh PostgreSQL database, timed
by wall clock and by the CPU seconds of every process involved.

    .venv/bin/python bench/seed_cpu.py --database-url postgresql+asyncpg://USER@HOST:5432/DB \
        [--count 1000000] [--before OTHER_CHECKOUT/src] [-- EXTRA SEED OPTIONS]

The database named by the URL is dropped and created again first (it must be one of its own),
so the command also makes the first start. The command's CPU (its own and its worker
processes', from ``wait4``) and that of the database's backends (found in
``pg_stat_activity``, read from ``/proc`` twice a second, so the last half second of a backend
may be missed) are printed beside the wall time and the 1-minute load average seen during the
run, as one JSON line on stderr; the command's own summary (``--json``: its phases) on stdout.
On a shared machine the wall time follows the neighbours; the CPU seconds much less so.
``--before`` runs another checkout's sources instead, for a before/after pair on one machine."""

from __future__ import annotations

import _pathfix  # noqa: F401  (must come first: see _pathfix.py)

# isort: split
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU of a live process, from /proc (None once it has gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listed:
            return [int(child) for child in listed.read().split()]
    except OSError:
        return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--before", help="another checkout's src folder, run instead of this one")
    parser.add_argument("extra", nargs="*", help="more options for the seed command")
    args = parser.parse_args()

    url = urlsplit(args.database_url)
    database = url.path.lstrip("/")
    server = ["-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    subprocess.run(["dropdb", *server, "--if-exists", database], check=True)
    subprocess.run(["createdb", *server, database], check=True)

    def backends() -> list[int]:
        listed = subprocess.run(
            ["psql", *server, "-d", "postgres", "-Atc",
             f"SELECT pid FROM pg_stat_activity WHERE datname = '{database}'"],
            capture_output=True, text=True, check=False,
        ).stdout.split()  # fmt: skip
        return [int(pid) for pid in listed]

    env = dict(os.environ)
    if args.before:
        env["PYTHONPATH"] = os.path.abspath(args.before)
    command = [sys.executable, "-m", "motorpool.cli", "vehicles", "seed", "--count", str(args.count),
               "--seed", "1", "--connect", "fleet@example.com", "--database-url", args.database_url,
               *args.extra]  # fmt: skip
    loads = [os.getloadavg()[0]]
    seen_backends: dict[int, float] = {}
    seen_workers: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as folder:  # the first start writes its .env here
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=folder, env=env)
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            for watched, seen in ((backends(), seen_backends), (children(process.pid), seen_workers)):
                for each in watched:
                    used = cpu_seconds(each)
                    if used is not None:
                        seen[each] = used
            loads.append(os.getloadavg()[0])
            time.sleep(0.5)
        wall = time.perf_counter() - started
    command_cpu = usage.ru_utime + usage.ru_stime
    workers = sum(seen_workers.values())
    database_cpu = sum(seen_backends.values())
    print(json.dumps({
        "wall_s": round(wall, 1),
        "command_cpu_s": round(command_cpu, 1),
        "workers_cpu_s": round(workers, 1),
        "parent_cpu_s": round(command_cpu - workers, 1),
        "postgres_backends_cpu_s": round(database_cpu, 1),
        "total_cpu_s": round(command_cpu + database_cpu, 1),
        "load_average_1min": [round(min(loads), 1), round(max(loads), 1)],
        "exit": os.waitstatus_to_exitcode(status),
    }), file=sys.stderr)  # fmt: skip


if __name__ == "__main__":
    main()
