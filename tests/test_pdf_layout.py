"""Print layout of every shipped example in every shipped locale, read back with pdfplumber.

- every character's box lies inside the page's content box (left and right margins) and on the page:
  no table or chart runs off the edge, no month of the trend table is lost;
- no page is less than ~40% filled, except the cover, the last page and a page after which a new
  section starts (a section's last page);
- the table of contents' page numbers are the pages where the section headings are.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

pdfplumber = pytest.importorskip("pdfplumber")

ROOT = Path(__file__).parents[1]
EXAMPLES = {
    "acme": ROOT / "examples" / "acme" / "report.yaml",
    "norte": ROOT / "examples" / "agency" / "clients" / "norte" / "report.yaml",
    "taipei": ROOT / "examples" / "agency" / "clients" / "taipei" / "report.yaml",
}
LOCALES = ("en", "es", "id", "zh_Hant")
MM = 72 / 25.4
MARGIN = {"top": 20 * MM, "right": 16 * MM, "bottom": 22 * MM, "left": 16 * MM}  # templates/report.css @page
TOLERANCE = 1.0  # points: anti-aliasing of glyph boxes
HEADING_SIZE = 15  # h2, pt
MIN_FILL = 0.40


@pytest.fixture(scope="module")
def render(cli, tmp_path_factory):
    root = tmp_path_factory.mktemp("layout")

    @cache
    def _render(example: str, locale: str) -> Path:
        out = root / f"{example}-{locale}"
        result = cli.run("run", EXAMPLES[example], "--locale", locale, "--format", "pdf", "--out", out, cwd=root)
        assert result.code == 0, result.output
        return next(out.glob("*.pdf"))

    return _render


def _body(page) -> list[dict]:
    """Characters between the running header and footer: the page's own content."""
    return [
        c for c in page.chars if MARGIN["top"] - 2 <= c["top"] and c["bottom"] <= page.height - MARGIN["bottom"] + 2
    ]


def _fill(page) -> float:
    """How far down the content box the page's content (text, rules, images, chart strokes) reaches."""
    bottoms = [c["bottom"] for c in _body(page)]
    bottoms += [
        o["bottom"]
        for o in (*page.rects, *page.images, *page.lines, *page.curves)
        if MARGIN["top"] - 2 <= o["top"] and o["bottom"] <= page.height - MARGIN["bottom"] + 2
    ]
    height = page.height - MARGIN["top"] - MARGIN["bottom"]
    return (max(bottoms, default=MARGIN["top"]) - MARGIN["top"]) / height


def _lines(page, chars: list[dict]) -> list[tuple[float, float, str]]:
    """Text lines as (top, size, text): pdfplumber's clustering, which keeps a CJK title and
    its leader dots (different fonts, slightly different tops) on one line."""
    lines = page.filter(lambda o: o.get("object_type") != "char" or o in chars).extract_text_lines(
        strip=True, return_chars=True, y_tolerance=4
    )
    return [(line["top"], max(c["size"] for c in line["chars"]), line["text"]) for line in lines]


def _headings(page) -> list[str]:
    """The h2 titles on the page; a title wrapped over two lines is joined back into one."""
    titles, previous = [], False
    for _top, size, text in _lines(page, _body(page)):
        heading = abs(size - HEADING_SIZE) < 0.6 and bool(text)
        if heading and previous:
            titles[-1] += ("" if re.match(r"[\u3000-\u9fff]", text) else " ") + text
        elif heading:
            titles.append(text)
        previous = heading
    return titles


def _contents(page) -> dict[str, int]:
    """The table of contents on the cover page (lines "Title ..... 3"): title → page number."""
    entries = {}
    for _top, _size, text in _lines(page, page.chars):
        if match := re.fullmatch(r"(.+?)\s*\.{3,}\s*(\d+)", text):
            entries[match.group(1)] = int(match.group(2))
    return entries


def layout_problems(pdf: Path) -> list[str]:
    """Everything wrong with the PDF's layout, one line each."""
    problems = []
    with pdfplumber.open(pdf) as document:
        pages = document.pages
        for number, page in enumerate(pages, 1):
            for c in page.chars:
                inside = (
                    MARGIN["left"] - TOLERANCE <= c["x0"]
                    and c["x1"] <= page.width - MARGIN["right"] + TOLERANCE
                    and 0 <= c["top"]
                    and c["bottom"] <= page.height
                )
                if not inside:
                    problems.append(
                        f"page {number}: {c['text']!r} at x {c['x0']:.0f}–{c['x1']:.0f} outside the content box"
                    )
                    break
        headings = {number: _headings(page) for number, page in enumerate(pages, 1)}
        for number, page in enumerate(pages[1:-1], 2):
            next_lines = _lines(pages[number], _body(pages[number]))
            section_ends = bool(next_lines) and next_lines[0][2] in headings[number + 1]
            if not section_ends and _fill(page) < MIN_FILL:
                problems.append(f"page {number} is {_fill(page):.0%} filled and its section goes on")
        contents = _contents(pages[0])
        if len(contents) < 5:
            problems.append(f"no table of contents on the cover: {contents}")
        where = {}
        for number, titles in headings.items():
            for title in titles:
                where.setdefault(title, number)
        for title, page_number in contents.items():
            if where.get(title) != page_number:
                problems.append(f"contents say {title!r} is on page {page_number}, it is on {where.get(title)}")
    return problems


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("example", list(EXAMPLES))
def test_print_layout(render, example, locale):
    pdf = render(example, locale)
    problems = layout_problems(pdf)
    assert not problems, f"{pdf.name}:\n" + "\n".join(problems)
