"""The docs cite tests and link to each other: those citations and links must stay true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
TEST_ID = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?(?:\[[^`]*\])?`")
DOC_LINK = re.compile(r"\]\(([\w./-]+\.md)(?:#([\w-]+))?\)")


def anchors(path: Path) -> set[str]:
    """GitHub-style heading anchors plus explicit ``<a id=...>`` anchors."""
    text = path.read_text(encoding="utf-8")
    found = set(re.findall(r'<a id="([\w-]+)"', text))
    for heading in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_cited_tests_exist(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    missing = []
    for file, function in TEST_ID.findall(text):
        path = ROOT / file
        if not path.is_file():
            missing.append(file)
        elif function and not re.search(rf"^(async )?def {function}\b", path.read_text(encoding="utf-8"), re.M):
            missing.append(f"{file}::{function}")
    assert not missing, f"{doc.name} cites tests that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_links_between_docs_resolve(doc: Path) -> None:
    broken = []
    for target, anchor in DOC_LINK.findall(doc.read_text(encoding="utf-8")):
        path = (doc.parent / target).resolve()
        if not path.is_file():
            broken.append(target)
        elif anchor and anchor not in anchors(path):
            broken.append(f"{target}#{anchor}")
    assert not broken, f"{doc.name} links to missing docs or anchors: {broken}"
