"""The README's fenced code blocks, each with the check marker before it and the section it is in.

A marker is an HTML comment on the lines right before the block's opening fence (blank lines and
other comments may sit between): ``<!-- check: KIND [ARGUMENT] [— REASON] -->``. What each KIND
means is in ``tests/docs/test_readme_blocks.py`` (the static checks) and
``tests/docs/test_readme_run.py`` (the blocks run against a platform); the README's "Running the
tests" section lists them for its readers."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\S*)\s*$")
CHECK = re.compile(r"<!--\s*check:\s*(\S+)(?:\s+(.*?))?\s*-->")
SECTION = re.compile(r"^## (.+)$")
#: The kinds whose blocks the suite runs, against a platform of their section.
RUNNING = ("run", "output-of")
#: The platform's address in the README (``make up``'s default), in commands' printed output.
DEFAULT_ADDRESS = "127.0.0.1:4000"
#: Kinds that leave a block unrun, and so must say why (after an em dash).
UNRUN_WITH_REASON = ("help", "parse")


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, counted from 1
    language: str
    text: str
    kind: str | None
    argument: str
    section: str = ""
    reason: str = ""

    def where(self) -> str:
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return f"README.md:{self.line} (```{self.language}, starting {first[:60]!r})"

    @property
    def options(self) -> list[str]:
        """A ``run`` marker's words (``env``, ``output``, ``pytest``, ``needs=TOOL,…``)."""
        return self.argument.split()

    def needs(self) -> list[str]:
        """The programs a ``run`` block needs besides bash and motorpool (``needs=jq,curl``)."""
        return [tool for option in self.options if option.startswith("needs=") for tool in option[6:].split(",") if tool]


def readme_blocks(text: str) -> list[Block]:
    """The fenced blocks of ``text`` with the check marker before each (or none) and the title of
    the ``## `` section each is in."""
    lines = text.splitlines()
    blocks: list[Block] = []
    section = ""
    index = 0
    while index < len(lines):
        heading = SECTION.match(lines[index])
        if heading:
            section = heading.group(1).strip()
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        kind, argument, reason = _marker_before(lines, index)
        text_of_block = "\n".join(lines[index + 1 : end])
        blocks.append(Block(index + 1, opening.group(1), text_of_block, kind, argument, section, reason))
        index = end + 1
    return blocks


def _marker_before(lines: list[str], fence: int) -> tuple[str | None, str, str]:
    """The check marker among the comment lines right above line ``fence``: its kind, its argument
    and the reason given after an em dash."""
    above = fence - 1
    while above >= 0 and (not lines[above].strip() or lines[above].lstrip().startswith("<!--")):
        found = CHECK.search(lines[above])
        if found:
            argument, _, reason = (found.group(2) or "").partition("—")
            return found.group(1), argument.strip(), reason.strip()
        above -= 1
    return None, "", ""


def expected_outputs(text: str) -> list[str]:
    """The comment lines that follow a command in ``text``, a segment per command (comments before
    the first command are the block's own)."""
    segments: list[str] = []
    current: list[str] = []
    after_command = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            if after_command:
                current.append(stripped[1:])
        elif stripped:
            if current:
                segments.append("\n".join(current))
                current = []
            after_command = not stripped.endswith("\\")  # a continued command ends further down
    if current:
        segments.append("\n".join(current))
    return segments


def output_pattern(expected: str, addresses: Mapping[str, str]) -> str:
    """A regular expression for what the README shows a command printing, ``expected``: ``…`` is
    anything within a line, whitespace is any whitespace or none, each address of ``addresses``
    (the README's default ports) stands for the one it maps to; a comment at the end of a line
    (``  # …``) is the README's, not the output's."""
    parts: list[str] = []
    uncommented = "\n".join(re.sub(r"\s+#\s.*$", "", line) for line in expected.strip().splitlines())
    alternatives = "".join(f"|{re.escape(address)}" for address in addresses)
    for token in re.split(rf"(…|\s+{alternatives})", uncommented):
        if token == "…":
            parts.append(r"[^\n]*?")
        elif token in addresses:
            parts.append(re.escape(addresses[token]))
        elif token and token.isspace():
            parts.append(r"\s*")
        elif token:
            parts.append(re.escape(token))
    return "".join(parts)


def summary(blocks: list[Block]) -> list[str]:
    """What the README's blocks are checked by: how many run, how many are only checked
    statically, and why, as lines to print at the end of a run."""
    ran = [block for block in blocks if block.kind in RUNNING]
    unrun = [block for block in blocks if block.kind not in RUNNING]
    sections = {block.section for block in ran}
    headline = (
        f"README blocks: {len(ran)} run against a platform ({len(sections)} sections, one "
        f"`motorpool serve` each), {len(unrun)} checked without running:"
    )
    lines = [headline]
    reasons = Counter(_why_unrun(block) for block in unrun)
    lines += [f"  {count:>2} × {reason}" for reason, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))]
    return lines


def _why_unrun(block: Block) -> str:
    if block.reason:
        return f"{block.kind}: {block.reason}"
    if block.kind == "output":
        return "output: sample output (checked for its shape)"
    if block.kind in ("test", "file"):
        return f"{block.kind}: {block.argument}"
    return f"{block.kind}"
