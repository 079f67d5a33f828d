"""Every fenced code block of README.md says how the suite checks it, and is checked that way.

The marker is an HTML comment on the lines right before the block's opening fence (blank lines and
other comments may sit between), ``<!-- check: KIND [ARGUMENT] [— REASON] -->``:

- ``run [OPTIONS]``: run by bash (or the venv's python) against a platform of its own section, in
  ``tests/docs/test_readme_run.py``; here it is parsed, and its ``motorpool …`` lines checked as
  ``help`` checks them;
- ``output-of COMMAND``: what COMMAND prints, run in ``tests/docs/test_readme_run.py``; here its
  command is checked as ``help`` checks it;
- ``help — REASON``: each ``motorpool …`` command line in the block names a command that exists,
  with options its ``--help`` lists;
- ``test PATH::NAME``: an existing test runs what the block shows (the test function must exist);
- ``file PATH``: the block equals, or is contained in, the file at PATH (from the repository's root);
- ``parse — REASON``: the block parses as its language (``python`` compiles, ``json``, ``toml``,
  ``sh`` through ``bash -n``);
- ``output``: sample output, loosely checked: not empty, and no line of it is a ``$`` prompt.

``help`` and ``parse`` leave a block unrun, so their markers say why after an em dash
(``<!-- check: parse — needs the real service -->``). Nothing here starts a server: the whole
module takes well under a second.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import subprocess
import tomllib
from typing import Any

from typer.main import get_command

from motorpool.cli import app

from .readme import README, ROOT, UNRUN_WITH_REASON, Block, readme_blocks

KINDS = ("run", "output-of", "help", "test", "file", "parse", "output")
RUN_OPTIONS = ("env", "output", "pytest")
#: Programs a reader may lack, which a ``run`` block that uses them names in ``needs=``.
DECLARED_TOOLS = ("jq", "curl")
HOW_TO_MARK = (
    "put a line `<!-- check: KIND -->` right before its opening fence, KIND one of: run (run against "
    "a platform of its section), output-of COMMAND (what COMMAND prints), help — REASON (its "
    "`motorpool …` lines' commands and options exist), test PATH::NAME (an existing test covers "
    "it), file PATH (the block is contained in that file), parse — REASON (it parses as its "
    "language), output (sample output) — see tests/docs/test_readme_blocks.py"
)


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
        command: Any = root  # a click Group while words name subcommands, then a Command
        rest = list(words)
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


def check_run(block: Block) -> list[str]:
    """A block the suite runs: known options, a language it can run, and, ahead of the run, what
    ``parse`` and ``help`` check (so a renamed option fails here without a server)."""
    unknown = [option for option in block.options if option not in RUN_OPTIONS and not option.startswith("needs=")]
    if unknown:
        return [f"`check: run` has no option {', '.join(unknown)} (options: {', '.join(RUN_OPTIONS)}, needs=TOOL,…)"]
    if block.language not in ("sh", "python", "toml"):
        return [f"`check: run` runs sh, python and toml (a scenario) blocks, not {block.language!r}"]
    if "pytest" in block.options and block.language != "python":
        return ["`check: run pytest` is for a python block (a test file)"]
    problems = check_parse(block)
    if block.language == "sh" and _command_lines(block.text):
        problems += check_help(block)
    if block.language == "sh":
        undeclared = [tool for tool in DECLARED_TOOLS if re.search(rf"(^|[\s|;&(]){tool}\s", block.text, re.MULTILINE) and tool not in block.needs()]
        problems += [f"uses {tool}: say so in its marker (`needs={tool}`)" for tool in undeclared]
    return problems


def check_output_of(block: Block) -> list[str]:
    """Sample output the suite compares with what its command prints."""
    if not block.argument:
        return ["`check: output-of` needs the COMMAND whose output the block shows"]
    command = Block(block.line, "sh", block.argument, "help", "")
    problems = check_parse(command)
    if _command_lines(command.text):
        problems += check_help(command)
    return problems + check_output(block)


CHECKS = {
    "run": check_run,
    "output-of": check_output_of,
    "help": check_help,
    "test": check_test,
    "file": check_file,
    "parse": check_parse,
    "output": check_output,
}


# --- the tests ------------------------------------------------------------------------------------


def test_every_block_of_the_readme_has_a_check_marker() -> None:
    blocks = readme_blocks(README.read_text())
    assert len(blocks) > 20
    unmarked = [block.where() for block in blocks if block.kind is None]
    assert not unmarked, "README blocks without a check marker:\n  " + "\n  ".join(unmarked) + f"\nTo mark one, {HOW_TO_MARK}."
    unknown = [f"{block.where()}: check: {block.kind}" for block in blocks if block.kind not in KINDS]
    assert not unknown, "README blocks with an unknown check:\n  " + "\n  ".join(unknown) + f"\n{HOW_TO_MARK}."
    unexplained = [block.where() for block in blocks if block.kind in UNRUN_WITH_REASON and not block.reason]
    assert not unexplained, (
        "README blocks that are not run and do not say why:\n  " + "\n  ".join(unexplained)
        + "\nRun them (`<!-- check: run -->`), or give the reason: `<!-- check: parse — needs the real service -->`."
    )


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
    assert check_run(Block(1, "sh", "motorpool serve --no-such-flag", "run", "")) == [
        "`motorpool serve --no-such-flag`: --no-such-flag is not an option"
    ]
    assert check_run(Block(1, "sh", "true", "run", "quickly"))[0].startswith("`check: run` has no option quickly")
    assert check_run(Block(1, "json", "{}", "run", ""))
    assert check_run(Block(1, "sh", "motorpool apps list --json | jq .", "run", "env needs=jq")) == []
    assert check_run(Block(1, "sh", "X=$(curl -s x | jq -r .a)", "run", "needs=jq")) == ["uses curl: say so in its marker (`needs=curl`)"]
    assert check_output_of(Block(1, "", "export A=1", "output-of", "motorpool env --no-such-flag"))
    assert check_output_of(Block(1, "", "x", "output-of", ""))
    marked = readme_blocks("## A section\n<!-- check: parse — needs the real service -->\n```sh\ncurl x\n```\n")[0]
    assert (marked.kind, marked.argument, marked.reason, marked.section) == ("parse", "", "needs the real service", "A section")
    run = readme_blocks("<!-- check: run env needs=jq,curl -->\n```sh\ntrue\n```\n")[0]
    assert (run.options, run.needs(), run.reason) == (["env", "needs=jq,curl"], ["jq", "curl"], "")
