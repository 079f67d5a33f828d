"""The README's commands, run as printed: every block marked ``<!-- check: run -->`` or
``<!-- check: output-of COMMAND -->`` runs in bash, with ``set -euo pipefail``, against a real
``motorpool serve`` started for its ``## `` section on a free loopback port, in a folder of its own
(its SQLite file and the ``.env`` its first start writes), and must exit 0; where the README shows
what a command prints, the output must match.

A section's blocks run in README order in one bash process, as a reader types them into one
terminal: a variable one block sets (``CAR=$(…)``) is there for the next. Each block has
``BLOCK_SECONDS`` at most. ``run`` takes options, its only glue, visible in the marker:

- ``env``: the block runs after ``set -a; . ./.env; set +a`` (the credentials first start wrote
  exported, as the README asks its reader to do);
- ``output``: the comment lines that follow a command are what it prints;
- ``pytest``: a python block is a test file, run with ``python -m pytest`` (other python blocks run
  with the virtualenv's ``python``);
- a toml block is a scenario, loaded with ``motorpool scenario load``;
- ``needs=TOOL,…``: programs the block needs besides bash and motorpool (missing, the section is
  skipped with the reason, or fails under ``CI=true``).

Expected output is matched loosely: ``…`` stands for anything within a line, whitespace for any
whitespace (or none), and the address of the README's default platform, ``127.0.0.1:4000``, for
the address of the section's platform."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..support.processes import serve
from ..support.requirements import missing
from ..support.up import clean_environment
from .readme import (
    DEFAULT_ADDRESS,
    README,
    RUNNING,
    Block,
    expected_outputs,
    output_pattern,
    readme_blocks,
)

#: How long one block may take, its platform already up.
BLOCK_SECONDS = 60


def _sections() -> dict[str, list[Block]]:
    """The README's running blocks by ``## `` section, in README order."""
    sections: dict[str, list[Block]] = {}
    for block in readme_blocks(README.read_text()):
        if block.kind in RUNNING:
            sections.setdefault(block.section, []).append(block)
    return sections


SECTIONS = _sections()


@dataclass
class Ran:
    """What one block printed."""

    block: Block
    stdout: str
    stderr: str

    def report(self) -> str:
        return f"{self.block.where()}\n--- stdout:\n{self.stdout}\n--- stderr:\n{self.stderr}"


def _command_of(block: Block, workdir: Path) -> str:
    """The shell text that runs ``block`` in ``workdir``: the block itself for sh, the command
    that runs its file for python, the marker's command for ``output-of``."""
    if block.kind == "output-of":
        return block.argument
    prelude = "set -a; . ./.env; set +a\n" if "env" in block.options else ""
    if block.language == "python":
        if "pytest" in block.options:
            path = workdir / f"test_readme_{block.line}.py"
            command = f"python -m pytest -q {path.name}"
        else:
            path = workdir / f"readme_{block.line}.py"
            command = f"python {path.name}"
        path.write_text(block.text + "\n")
        return prelude + command
    if block.language == "toml":
        path = workdir / f"readme_{block.line}.toml"
        path.write_text(block.text + "\n")
        return prelude + f"motorpool scenario load {path.name}"
    return prelude + block.text


def _script(blocks: list[Block], workdir: Path, outputs: Path, status: Path) -> str:
    """One bash script for a section: each block in braces (so its variables stay for the next),
    its output in files of its own, a line in ``status`` as it starts."""
    parts = ["set -euo pipefail"]
    for block in blocks:
        parts.append(f"printf 'start {block.line}\\n' >> {status}")
        parts.append("{\n" + _command_of(block, workdir) + f"\n}} > {outputs}/{block.line}.out 2> {outputs}/{block.line}.err")
    parts.append(f"printf 'end\\n' >> {status}")
    return "\n".join(parts) + "\n"


def _run_section(
    blocks: list[Block], workdir: Path, scratch: Path, block_seconds: float = BLOCK_SECONDS
) -> tuple[list[Ran], str | None]:
    """Run ``blocks`` in ``workdir``: what each that ran printed, and the failure, if one failed
    or outlived ``block_seconds``."""
    outputs, status = scratch / "outputs", scratch / "status"
    outputs.mkdir(parents=True)
    status.touch()
    script = scratch / "section.sh"
    script.write_text(_script(blocks, workdir, outputs, status))
    # A reader's shell: nothing of this pytest run (its xdist worker's name, its options).
    env = {key: value for key, value in clean_environment().items() if not key.startswith("PYTEST_")} | {
        # `motorpool` and `python` as the README's reader has them: the virtualenv's.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "COLUMNS": "200",
    }
    by_line = {str(block.line): block for block in blocks}
    process = subprocess.Popen(
        ["bash", str(script)], cwd=workdir, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    current, started = "", time.monotonic()
    failure: str | None = None
    while process.poll() is None:
        lines = status.read_text().split()
        latest = lines[-1] if lines else ""
        if latest != current:
            current, started = latest, time.monotonic()
        if time.monotonic() - started > block_seconds:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            failure = f"took more than {block_seconds:g} s"
            break
        time.sleep(0.05)
    started_lines = [word for word in status.read_text().split() if word.isdigit()]
    ran = [
        Ran(by_line[line], _read(outputs / f"{line}.out"), _read(outputs / f"{line}.err"))
        for line in started_lines
    ]
    if failure is None and process.returncode != 0:
        failure = f"exited with {process.returncode}"
    if failure is not None:
        leftover = process.stdout.read().decode(errors="replace") if process.stdout else ""
        return ran, f"{failure}:\n{ran[-1].report() if ran else ''}\n{leftover}"
    return ran, None


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


# --- what the README says a command prints --------------------------------------------------------


def output_problems(ran: Ran, address: str) -> list[str]:
    """Where what a block printed differs from what the README shows."""
    if ran.block.kind == "output-of":
        expected = [ran.block.text]
    elif "output" in ran.block.options:
        expected = expected_outputs(ran.block.text)
        if not expected:
            return [f"{ran.block.where()}: `run output` shows no output (comment lines after a command)"]
    else:
        return []
    pattern = r"[\s\S]*?".join(output_pattern(segment, {DEFAULT_ADDRESS: address}) for segment in expected)
    if re.search(pattern, ran.stdout):
        return []
    shown = "\n".join(expected)
    return [f"{ran.block.where()}: the output does not match the README's\n--- README:\n{shown}\n--- printed:\n{ran.stdout}"]


# --- the tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("section", list(SECTIONS))
def test_the_readme_section_runs_as_printed(section: str, tmp_path: Path) -> None:
    blocks = SECTIONS[section]
    absent = sorted({tool for block in blocks for tool in block.needs() if shutil.which(tool) is None})
    if absent:
        missing(f"the README's section {section!r} needs {', '.join(absent)}")
    workdir = tmp_path / "platform"
    workdir.mkdir()
    served = serve(workdir)
    try:
        ran, failure = _run_section(blocks, workdir, tmp_path / "run")
    finally:
        served.stop()
    assert failure is None, f"a README block of {section!r} failed: {failure}"
    address = served.origin.split("://", 1)[1]
    problems = [problem for each in ran for problem in output_problems(each, address)]
    assert not problems, "\n\n".join(problems)


def test_there_are_blocks_to_run() -> None:
    assert sum(len(blocks) for blocks in SECTIONS.values()) >= 10


def test_the_output_rules_catch_what_they_exist_for() -> None:
    text = "# the block's own comment\ncurl -s \\\n  http://x\n# {\"a\": 1,\n#  \"b\": \"…\"}\nmotorpool clock show\n"
    assert expected_outputs(text) == [' {"a": 1,\n  "b": "…"}']
    pattern = output_pattern(expected_outputs(text)[0], {})
    assert re.search(pattern, '{"a":1,"b":"anything"}')
    assert not re.search(pattern, '{"a":2,"b":"anything"}')
    assert re.search(output_pattern("MOTORPOOL_URL=http://127.0.0.1:4000", {DEFAULT_ADDRESS: "127.0.0.1:5555"}), "MOTORPOOL_URL=http://127.0.0.1:5555")
    assert not re.search(output_pattern("export A=1 B=2", {}), "export A=1\nexport B=2")
    assert not re.search(output_pattern("client_…", {}), "client\n_x")
    assert re.search(output_pattern("export A=/…/ca.pem   # the CA", {}), "export A=/tmp/x/ca.pem\n")
    shown = Block(7, "sh", 'curl -s x\n# {"a": 1, "b": "…"}', "run", "output")
    assert output_problems(Ran(shown, '{"a":1,"b":"c"}\n', ""), "127.0.0.1:1") == []
    assert "does not match" in output_problems(Ran(shown, '{"a":2,"b":"c"}\n', ""), "127.0.0.1:1")[0]
    printed = Block(7, "sh", "URL=http://127.0.0.1:4000", "output-of", "cat .env")
    assert output_problems(Ran(printed, "# a comment\nURL=http://127.0.0.1:5555\n", ""), "127.0.0.1:5555") == []
    assert output_problems(Ran(printed, "URL=http://127.0.0.1:4000\n", ""), "127.0.0.1:5555")


def test_a_section_runs_in_one_shell_and_stops_at_a_failing_or_slow_block(tmp_path: Path) -> None:
    """The runner itself, without a platform: variables carry from block to block, a failing
    command ends the section naming its block, a block that hangs is stopped."""
    carried = [Block(1, "sh", "GREETING=hello", "run", ""), Block(5, "sh", 'echo "$GREETING world"', "run", "")]
    ran, failure = _run_section(carried, tmp_path, tmp_path / "carried")
    assert failure is None and ran[1].stdout == "hello world\n"

    failing = [Block(1, "sh", "echo first", "run", ""), Block(5, "sh", "false\necho never", "run", ""), Block(9, "sh", "echo after", "run", "")]
    ran, failure = _run_section(failing, tmp_path, tmp_path / "failing")
    assert failure is not None and "README.md:5" in failure and [each.block.line for each in ran] == [1, 5]
    assert "never" not in failure

    unset = [Block(1, "sh", 'echo "$NOT_SET_ANYWHERE"', "run", "")]
    assert _run_section(unset, tmp_path, tmp_path / "unset")[1] is not None  # set -u

    started = time.monotonic()
    ran, failure = _run_section([Block(3, "sh", "sleep 30", "run", "")], tmp_path, tmp_path / "slow", block_seconds=1)
    assert failure is not None and failure.startswith("took more than 1 s") and time.monotonic() - started < 10
