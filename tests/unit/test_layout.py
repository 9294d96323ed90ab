"""The layout holds: file names are guessable and unique, no development-history labels in
production files, and every process citation points at a real section of docs/process.md."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "scheduling", "usecases", "storage", "llm", "prompts", "domain")
PRODUCTION = (*PACKAGES, "devkit")
TEXT_SUFFIXES = {".py", ".j2", ".yaml", ".yml", ".md", ".json", ".ini", ".mako"}
HISTORY = re.compile(r"\bseed\s+0\d+|\(seed\b|\bissue\s+#?\d+", re.IGNORECASE)
CITATION = re.compile(r'docs/process\.md,\s*"([^"]+)"')

PENDING_BASENAMES: set[str] = set()
PENDING_HISTORY: set[str] = set()


def _modules() -> list[Path]:
    out = []
    for package in PRODUCTION:
        for path in (ROOT / package).rglob("*.py"):
            rel = path.relative_to(ROOT)
            if path.name in ("__init__.py", "__main__.py") or "migrations" in rel.parts:
                continue
            out.append(rel)
    return out


def _files() -> list[Path]:
    return [
        p.relative_to(ROOT)
        for package in PRODUCTION
        for p in (ROOT / package).rglob("*")
        if p.is_file() and p.suffix in TEXT_SUFFIXES and "__pycache__" not in p.parts
    ]


def test_no_two_production_modules_share_a_basename() -> None:
    by_name: dict[str, list[str]] = defaultdict(list)
    for rel in _modules():
        by_name[rel.stem].append(str(rel))
    clashes = {
        name: sorted(paths)
        for name, paths in by_name.items()
        if len(paths) > 1 and name not in PENDING_BASENAMES
    }
    assert clashes == {}


def test_no_development_history_labels_in_production_files() -> None:
    found = []
    for rel in _files():
        if str(rel) in PENDING_HISTORY:
            continue
        for n, line in enumerate((ROOT / rel).read_text(encoding="utf-8").splitlines(), 1):
            if HISTORY.search(line):
                found.append(f"{rel}:{n}: {line.strip()}")
    assert found == []


def _sections() -> set[str]:
    text = (ROOT / "docs" / "process.md").read_text(encoding="utf-8")
    return {m.group(1).strip() for m in re.finditer(r"^#{2,}\s+(.+?)\s*$", text, re.MULTILINE)}


def test_every_process_citation_names_a_section_of_the_process() -> None:
    sections = _sections()
    assert "Escalation ladder" in sections and "Flags" in sections
    cited = [
        (str(rel), m.group(1))
        for rel in [*_files(), *(Path("tests") / p.name for p in (ROOT / "tests").glob("*.py"))]
        for m in CITATION.finditer((ROOT / rel).read_text(encoding="utf-8"))
    ]
    assert [(where, title) for where, title in cited if title not in sections] == []
