"""The template sandbox's bounds and the PDF fetcher's rules, in process and at their edges.

The theme-attack suite (tests/test_theme_attacks.py) checks the same rules end to end in
a child ``roistory run``; these tests call the functions directly, so scripts/mutation can
run them against each mutant of core/sandbox.py, core/safety.py, the URL fetcher in
core/pdf.py and ``may_read`` in core/resources.py (docs/testing.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from jinja2.sandbox import SecurityError

from roistory.errors import DataError
from roistory.pdf import make_url_fetcher
from roistory.resources import may_read
from roistory.safety import image_type, inside, require_regular_file, without_outside_values
from roistory.sandbox import BoundedSandbox

# ---------------------------------------------------------------- the sandbox's bounds


def render(template: str, **values) -> str:
    return BoundedSandbox(autoescape=True).from_string(template).render(**values)


@pytest.mark.parametrize(
    ("expression", "result"),
    [
        ("2 ** 4096 > 0", "True"),  # exactly 4096 bits: allowed
        ("(-2) ** 4096 > 0", "True"),
        ("1 ** 1000000000", "1"),  # |base| 1 never grows
        ("2 ** -5000", "0.0"),  # a negative exponent makes a small float
        ("true ** 100000", "1"),
        ("3 * 4 + 5 % 3", "14"),  # plain arithmetic is untouched
    ],
)
def test_powers_up_to_the_bound_are_computed(expression, result):
    assert render("{{ " + expression + " }}") == result


@pytest.mark.parametrize("expression", ["2 ** 4097", "(-2) ** 4097", "9 ** (9 ** 9)", "n ** 5000"])
def test_powers_beyond_the_bound_are_refused(expression):
    with pytest.raises(SecurityError, match=r"'\*\*' would make a number of more than 4096 bits"):
        render("{{ " + expression + " }}", n=3)


@pytest.mark.parametrize(
    ("expression", "length"),
    [
        ("'x' * 10000000", 10_000_000),  # exactly the limit
        ("10000000 * 'x'", 10_000_000),
        ("'ab' * 5000000", 10_000_000),
        ("'x' * -5", 0),
        ("'x' * true", 1),
        ("(s * 6000000) + (s * 4000000)", 10_000_000),
        ("([1] * 5000000) + ([2] * 5000000)", 10_000_000),
    ],
)
def test_repetition_and_concatenation_up_to_the_bound(expression, length):
    assert render("{{ (" + expression + ")|length }}", s="x") == str(length)


@pytest.mark.parametrize(
    ("expression", "operator", "size"),
    [
        ("'x' * 10000001", "*", "10,000,001"),
        ("10000001 * 'x'", "*", "10,000,001"),
        ("[1, 2] * 5000001", "*", "10,000,002"),
        ("(s * 6000000) + (s * 4000001)", "+", "10,000,001"),
        ("(s * 6000000) + 'y'", None, None),  # the control: 6,000,001 is fine
    ],
)
def test_repetition_and_concatenation_beyond_the_bound_are_refused(expression, operator, size):
    if operator is None:
        assert render("{{ (" + expression + ")|length }}", s="x") == "6000001"
        return
    message = rf"'\{operator}' would make {size} characters or items; the limit is 10,000,000"
    with pytest.raises(SecurityError, match=message):
        render("{{ " + expression + " }}", s="x")


@pytest.mark.parametrize(
    ("template", "result"),
    [
        ("{{ '%05d' % 3 }}", "00003"),
        ("{{ '%.2f' % 3.14159 }}", "3.14"),
        ("{{ '%5d'|format(3) }}", "    3"),
        ("{{ '{:>5}'.format(1) }}", "    1"),
        ("{{ 'ab'|center(6) }}", "  ab  "),
        ("{{ 'a\nb'|indent(2) }}", "a\n  b"),
        ("{{ 'ab'|center(100000)|length }}", "100000"),
    ],
)
def test_formats_and_widths_within_the_bound(template, result):
    assert render(template) == result


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ '%0999999d' % 1 }}", "a format field wider than 100,000 characters is not allowed"),
        ("{{ '%.999999f' % 1 }}", "a format field wider than 100,000 characters is not allowed"),
        ("{{ '%*d' % (5, 1) }}", "a format field wider than 100,000 characters is not allowed"),
        ("{{ '%0999999d'|format(1) }}", "a format field wider than 100,000 characters is not allowed"),
        ("{{ '{:>999999}'.format(1) }}", "a format field wider than 100,000 characters, or with a computed width"),
        ("{{ '{:>{}}'.format(1, 5) }}", "a format field wider than 100,000 characters, or with a computed width"),
        ("{{ 'x'|center(100001) }}", "'center' wider than 100,000 characters is not allowed"),
        ("{{ 'x'|indent(100001) }}", "'indent' wider than 100,000 characters is not allowed"),
    ],
)
def test_formats_and_widths_beyond_the_bound_are_refused(template, message):
    with pytest.raises(SecurityError, match=message.replace("(", r"\(")):
        render(template)


def test_lipsum_is_gone_and_other_globals_stay():
    env = BoundedSandbox()
    assert "lipsum" not in env.globals and "range" in env.globals


# ---------------------------------------------------------------- the PDF fetcher and what it may read


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """acme/assets/style.css (readable), acme/report.yaml (private, also copied into assets),
    acme-old/assets/style.css (a sibling sharing the name prefix)."""
    for folder in ("acme/assets", "acme-old/assets"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "style.css").write_text("p { color: red }", encoding="utf-8")
    (tmp_path / "acme" / "report.yaml").write_text("report: {}", encoding="utf-8")
    (tmp_path / "acme" / "assets" / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    return tmp_path / "acme"


def test_the_fetcher_reads_data_uris_and_files_in_its_roots_only(project):
    fetcher = make_url_fetcher([project / "assets"], [project / "assets" / "data.csv"])
    assert fetcher.fetch("data:text/plain,hello") is not None
    assert fetcher.fetch((project / "assets" / "style.css").as_uri()) is not None
    refused = {
        (project / "report.yaml").as_uri(): "refusing to read",  # in the project, not in assets/
        (project / "assets" / "data.csv").as_uri(): "refusing to read",  # in assets/ but private
        (project.parent / "acme-old" / "assets" / "style.css").as_uri(): "refusing to read",
        "FILE://" + str(project / "report.yaml"): "refusing to read",  # the scheme in capitals
        "http://127.0.0.1:9/x.css": "reports never use the network",
        "HTTPS://example.com/x.css": "reports never use the network",
        "ftp://example.com/x.css": "reports never use the network",
    }
    for url, reason in refused.items():
        with pytest.raises(ValueError, match=reason):
            fetcher.fetch(url)


def test_may_read_follows_symlinks_and_compares_whole_paths(project):
    roots, private = [project / "assets"], [project / "assets" / "data.csv"]
    assert may_read(project / "assets" / "style.css", roots, private)
    assert not may_read(project / "assets" / "data.csv", roots, private)
    assert not may_read(project.parent / "acme-old" / "assets" / "style.css", roots, private)
    link = project / "assets" / "innocent.css"
    link.symlink_to(project / "report.yaml")
    assert not may_read(link, roots, private)  # the link's target is outside assets/
    alias = project / "assets" / "alias.csv"
    alias.symlink_to(project / "assets" / "data.csv")
    assert not may_read(alias, roots, private)  # a private file under another name
    assert may_read(project / "assets" / "style.css", [project / "nowhere", project / "assets"], [])


def test_inside_is_by_path_not_by_prefix(project):
    assert inside(project, project) and inside(project / "assets" / "style.css", project)
    assert not inside(project.parent / "acme-old", project)
    assert not inside(project.parent, project)


# ---------------------------------------------------------------- images by content, regular files


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 8, "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 8, "image/jpeg"),
        (b"GIF87a" + b"\0" * 8, "image/gif"),
        (b"GIF89a" + b"\0" * 8, "image/gif"),
        (b"RIFF\x10\0\0\0WEBPVP8 ", "image/webp"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
        (b"\xef\xbb\xbf <?xml version='1.0'?>\n<!-- a logo -->\n<!DOCTYPE svg>\n<svg>", "image/svg+xml"),
        (b"RIFF\x10\0\0\0WAVEfmt ", None),  # a RIFF that is not WebP
        (b"\x89PNG\r\n", None),  # a cut signature
        (b"date,channel\n<svg>", None),  # a CSV that mentions svg
        (b"<svgfoo>", None),
        (b"", None),
    ],
)
def test_an_image_is_known_by_its_first_bytes(head, mime):
    assert image_type(head) == mime


def test_only_regular_files_are_read(tmp_path):
    regular = tmp_path / "a.csv"
    regular.write_text("x\n", encoding="utf-8")
    require_regular_file(regular)
    require_regular_file(tmp_path / "missing.csv")  # a missing file is reported by whoever opens it
    with pytest.raises(DataError, match=r"is a folder, not a regular file; roistory reads only regular files"):
        require_regular_file(tmp_path)
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match=r"data/pipe.csv: is a FIFO \(named pipe\), not a regular file"):
        require_regular_file(fifo, file="data/pipe.csv")
    with pytest.raises(DataError, match=r"is a device, not a regular file"):
        require_regular_file("/dev/null")


def test_an_error_quotes_values_only_from_inside_the_project(tmp_path):
    project, outside = tmp_path / "acme", tmp_path / "acme-old" / "leads.csv"
    project.mkdir()
    quoting = DataError("cannot read 'secret' as a date", file="data/leads.csv", row=3, column="date")
    structural = DataError("the column 'date' is missing", file="data/leads.csv", column="date")
    assert without_outside_values(quoting, project / "data" / "leads.csv", project) is quoting
    assert without_outside_values(quoting, None, project) is quoting
    assert without_outside_values(structural, outside, project) is structural
    redacted = without_outside_values(quoting, outside, project)
    assert "secret" not in str(redacted) and "outside the report project" in str(redacted)
    assert (redacted.file, redacted.row, redacted.column) == ("data/leads.csv", 3, "date")
    for message in ("malformed line 3: secret", "cannot read: secret"):
        redacted = without_outside_values(DataError(message, file="x.csv"), outside, project)
        assert "secret" not in str(redacted)
