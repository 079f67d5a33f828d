"""Every fenced code block of README.md says how the suite checks it, and is checked that way.

The marker is an HTML comment on the lines right before the block's opening fence (blank lines and
other comments may sit between), ``<!-- check: KIND [ARGUMENT] -->``:

- ``help``: each ``motorpool …`` command line in the block names a command that exists, with
  options its ``--help`` lists;
- ``test PATH::NAME``: an existing test runs what the block shows (the test function must exist);
- ``file PATH``: the block equals, or is contained in, the file at PATH (from the repository's root);
- ``parse``: the block parses as its language (``python`` compiles, ``json``, ``toml``, ``sh``
  through ``bash -n``);
- ``output``: sample output, loosely checked: not empty, and no line of it is a ``$`` prompt.

Nothing here starts a server: the whole module takes well under a second.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.main import get_command

from motorpool.cli import app

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\S*)\s*$")
CHECK = re.compile(r"<!--\s*check:\s*(\S+)(?:\s+(.*?))?\s*-->")
KINDS = ("help", "test", "file", "parse", "output")
HOW_TO_MARK = (
    "put a line `<!-- check: KIND -->` right before its opening fence, KIND one of: help (its "
    "`motorpool …` lines' commands and options exist), test PATH::NAME (an existing test covers "
    "it), file PATH (the block is contained in that file), parse (it parses as its language), "
    "output (sample output) — see tests/docs/test_readme_blocks.py"
)


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, counted from 1
    language: str
    text: str
    kind: str | None
    argument: str

    def where(self) -> str:
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return f"README.md:{self.line} (```{self.language}, starting {first[:60]!r})"


def readme_blocks(text: str) -> list[Block]:
    """The fenced blocks of ``text`` with the check marker before each (or none)."""
    lines = text.splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        kind, argument = _marker_before(lines, index)
        blocks.append(Block(index + 1, opening.group(1), "\n".join(lines[index + 1 : end]), kind, argument))
        index = end + 1
    return blocks


def _marker_before(lines: list[str], fence: int) -> tuple[str | None, str]:
    """The check marker among the comment lines right above line ``fence``."""
    above = fence - 1
    while above >= 0 and (not lines[above].strip() or lines[above].lstrip().startswith("<!--")):
        found = CHECK.search(lines[above])
        if found:
            return found.group(1), (found.group(2) or "").strip()
        above -= 1
    return None, ""


# --- the kinds of check ---------------------------------------------------------------------------


def _command_lines(text: str) -> list[list[str]]:
    """The argument lists of the ``motorpool …`` commands in a shell block (continued lines
    joined, comments dropped, ``$(motorpool …)`` included)."""
    joined = re.sub(r"\\\n", " ", text)
    commands: list[list[str]] = []
    for line in joined.splitlines():
        for found in re.finditer(r"(?:^|[\s($;|&])motorpool\s+([^|;&)\n]*)", line):
            words = shlex.split(found.group(1), comments=True)
            if words:
                commands.append(words)
    return commands


def _options_of(command: Any) -> set[str]:
    return {option for param in command.params for option in (*getattr(param, "opts", []), *getattr(param, "secondary_opts", []))}


def check_help(block: Block) -> list[str]:
    problems: list[str] = []
    root = get_command(app)
    commands = _command_lines(block.text)
    if not commands:
        problems.append("has no `motorpool …` command line")
    for words in commands:
        command, rest = root, list(words)
        while getattr(command, "commands", None) is not None and rest and not rest[0].startswith("-"):
            name = rest.pop(0)
            if name not in command.commands:
                problems.append(f"`motorpool {' '.join(words)}`: no command {name!r}")
                break
            command = command.commands[name]
        else:
            known = _options_of(command) | {"--help"}
            for word in rest:
                option = word.split("=", 1)[0]
                if option.startswith("--") and option not in known:
                    problems.append(f"`motorpool {' '.join(words)}`: {option} is not an option")
    return problems


def check_test(block: Block) -> list[str]:
    path, _, name = block.argument.partition("::")
    source = ROOT / path
    if not path or not name:
        return ["`check: test` needs PATH::NAME"]
    if not source.is_file():
        return [f"no test file {path}"]
    names = {node.name for node in ast.walk(ast.parse(source.read_text())) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    return [] if name in names else [f"{path} has no test {name}"]


def check_file(block: Block) -> list[str]:
    target = ROOT / block.argument
    if not block.argument or not target.is_file():
        return [f"no file {block.argument!r}"]
    return [] if block.text.strip() in target.read_text() else [f"is not contained in {block.argument}"]


def check_parse(block: Block) -> list[str]:
    try:
        if block.language == "python":
            _compile_python(block)
        elif block.language == "json":
            json.loads(block.text)
        elif block.language == "toml":
            tomllib.loads(block.text)
        elif block.language == "sh":
            checked = subprocess.run(["bash", "-n"], input=block.text, capture_output=True, text=True, check=False)
            if checked.returncode != 0:
                return [f"is not valid shell: {checked.stderr.strip()}"]
        else:
            return [f"`check: parse` knows python, json, toml and sh, not {block.language!r}"]
    except (SyntaxError, ValueError) as problem:
        return [f"does not parse: {problem}"]
    return []


def _compile_python(block: Block) -> None:
    """Compile a Python block as a module, or, for a snippet taken from a function (a ``return``
    in it), as that function's body."""
    try:
        compile(block.text, block.where(), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except SyntaxError as problem:
        if "outside function" not in str(problem):
            raise
        body = "\n".join(f"    {line}" for line in block.text.splitlines())
        compile(f"async def snippet():\n{body}\n", block.where(), "exec")


def check_output(block: Block) -> list[str]:
    if not block.text.strip():
        return ["is empty"]
    prompts = [line for line in block.text.splitlines() if line.startswith("$ ")]
    return [f"sample output with a prompt line {prompts[0]!r}: mark it help instead"] if prompts else []


CHECKS = {"help": check_help, "test": check_test, "file": check_file, "parse": check_parse, "output": check_output}


# --- the tests ------------------------------------------------------------------------------------


def test_every_block_of_the_readme_has_a_check_marker() -> None:
    blocks = readme_blocks(README.read_text())
    assert len(blocks) > 20
    unmarked = [block.where() for block in blocks if block.kind is None]
    assert not unmarked, "README blocks without a check marker:\n  " + "\n  ".join(unmarked) + f"\nTo mark one, {HOW_TO_MARK}."
    unknown = [f"{block.where()}: check: {block.kind}" for block in blocks if block.kind not in KINDS]
    assert not unknown, "README blocks with an unknown check:\n  " + "\n  ".join(unknown) + f"\n{HOW_TO_MARK}."


def test_every_block_of_the_readme_passes_its_check() -> None:
    failures = [
        f"{block.where()}: {problem}"
        for block in readme_blocks(README.read_text())
        if block.kind in CHECKS
        for problem in CHECKS[block.kind](block)
    ]
    assert not failures, "README blocks failing their check:\n  " + "\n  ".join(failures)


def test_the_checks_catch_what_they_exist_for() -> None:
    """Each kind of check refuses a block it should refuse, and the finder sees a missing marker."""
    text = "text\n\n```sh\nmotorpool serve\n```\n<!-- check: help -->\n```sh\nmotorpool serve --no-such-flag\n```\n"
    unmarked, wrong = readme_blocks(text)
    assert unmarked.kind is None and unmarked.line == 3
    assert check_help(wrong) == ["`motorpool serve --no-such-flag`: --no-such-flag is not an option"]
    assert check_help(Block(1, "sh", "motorpool nosuch list", "help", ""))[0].endswith("no command 'nosuch'")
    assert check_help(Block(1, "sh", 'CAR=$(motorpool vehicles create --make TESLA --json | jq -r .id)', "help", "")) == []
    assert check_test(Block(1, "sh", "", "test", "tests/docs/test_readme_blocks.py::no_such_test"))
    assert check_file(Block(1, "sh", "not in the file at all ✗", "file", "Makefile"))
    assert check_parse(Block(1, "python", "def (:", "parse", ""))
    assert check_parse(Block(1, "python", "return await x", "parse", "")) == []  # a function's body
    assert check_parse(Block(1, "json", "{", "parse", ""))
    assert check_parse(Block(1, "sh", "if then fi (", "parse", ""))
    assert check_output(Block(1, "", "$ motorpool serve", "output", ""))
