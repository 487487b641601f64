"""README.md stays a front page, and every relative link in it and in docs/ leads somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(```|~~~).*?^\1", flags=re.DOTALL | re.MULTILINE)
# [text](target) and [text]: target; images too. Inline code is removed first, so `[a](b)` in code is no link.
LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|^\[[^\]]+\]:\s*(\S+)", flags=re.MULTILINE)


def _prose(text: str) -> str:
    """The text without fenced code blocks and inline code spans."""
    return re.sub(r"`[^`\n]*`", "", FENCE.sub("", text))


def heading_anchor(title: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|<[^>]+>", "", title).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a Markdown file, with GitHub's -1, -2 suffixes for repeats."""
    seen: dict[str, int] = {}
    found = set()
    for title in re.findall(r"^#{1,6} +(.+?) *#*$", FENCE.sub("", path.read_text()), flags=re.MULTILINE):
        slug = heading_anchor(title)
        found.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
        seen[slug] = seen.get(slug, 0) + 1
    return found


def relative_links(path: Path) -> list[str]:
    targets = [a or b for a, b in LINK.findall(_prose(path.read_text()))]
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


def test_the_readme_is_a_front_page_of_at_most_20_kb():
    assert (ROOT / "README.md").stat().st_size <= 20 * 1024


def test_the_docs_folder_holds_the_reference_pages():
    names = {p.name for p in PAGES}
    for page in ("api", "sessions", "websocket", "signing", "webhooks", "faces", "selfie-id", "engine"):
        assert f"{page}.md" in names, page
    for page in ("operations", "benchmarks", "development"):
        assert f"{page}.md" in names, page


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_every_relative_link_resolves_to_a_file_and_anchor(page):
    broken = []
    for target in relative_links(page):
        file_part, _, anchor = target.partition("#")
        linked = (page.parent / file_part).resolve() if file_part else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading with anchor #{anchor}")
    assert not broken, broken


def test_the_anchor_rule_matches_github():
    assert heading_anchor("`POST /v1/verification/create-session`") == "post-v1verificationcreate-session"
    assert heading_anchor("1:N search: how it works and how fast it is") == "1n-search-how-it-works-and-how-fast-it-is"
    assert heading_anchor("Outbound (SSRF) rules") == "outbound-ssrf-rules"
    assert heading_anchor("Selfie video versus ID photo (`/verif/`)") == "selfie-video-versus-id-photo-verif"


def test_a_broken_link_is_caught(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[ok](#title) [gone](missing.md) [bad](#nowhere) `[code](ignored.md)`\n")
    targets = relative_links(page)
    assert targets == ["#title", "missing.md", "#nowhere"]
    assert "title" in anchors(page)
    assert "nowhere" not in anchors(page)
