"""The README's shape: its quick start kept to ``make up`` and ``make test``, its contents linking
to sections that exist, in the order a newcomer reads them. (Its walk-through, like every block
marked ``check: run``, is run by ``tests/docs/test_readme_run.py``.)"""

from __future__ import annotations

import re

from .readme import README


def _section(text: str, title: str) -> str:
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", text, re.DOTALL | re.MULTILINE)
    assert found, f"no section {title!r} in the README"
    return found.group(1)


def test_the_quick_start_is_make_up_and_make_test() -> None:
    quick = _section(README.read_text(), "Quick start")
    block = re.search(r"```sh\n(.*?)\n```", quick, re.DOTALL)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["make up", "make test"]


def test_the_contents_link_to_sections_that_exist() -> None:
    text = README.read_text()
    contents = _section(text, "Contents")
    titles = re.findall(r"^## (.+)$", text, re.MULTILINE)

    def slug(title: str) -> str:
        return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")

    anchors = {slug(title) for title in titles}
    linked = re.findall(r"\]\(#([^)]+)\)", contents)
    assert len(linked) >= 20
    assert set(linked) <= anchors, set(linked) - anchors
    assert titles.index("Quick start") < titles.index("Fleet → connect → read → command → clock") < titles.index(
        "How the pieces fit"
    )
