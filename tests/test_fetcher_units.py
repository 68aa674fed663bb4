"""The PDF fetcher's rules and the file checks behind them, in process and at their edges.

tests/test_render_security.py and tests/test_theme_attacks.py check the same rules end to
end in a child ``roistory run``; these tests call the functions directly, so scripts/mutation
can run them against each mutant of core/safety.py and the URL fetcher in core/pdf.py
(docs/testing.md).
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import pytest

from roistory.errors import DataError
from roistory.pdf import make_url_fetcher
from roistory.resources import may_read
from roistory.safety import image_type, inside, require_existing_file, require_regular_file, without_outside_values

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
        (b"<!--" + b"-" * 4085 + b"--><svg>", None),  # the tag must start in the first 4 KiB (4,097 bytes here)
        (b"<!--" + b"-" * 4084 + b"--><svg>", "image/svg+xml"),
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
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)  # stat fails without blocking: said, not a traceback
    with pytest.raises(DataError, match=r"^data/loop.csv: cannot read: Too many levels of symbolic links$"):
        require_regular_file(loop, file="data/loop.csv")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "s.csv"))
        with pytest.raises(DataError, match=rf"^{re.escape(str(tmp_path / 's.csv'))}: is a socket, not a regular file"):
            require_regular_file(tmp_path / "s.csv")


def test_an_existing_file_is_required_and_each_absence_said(tmp_path):
    regular = tmp_path / "a.csv"
    regular.write_text("x\n", encoding="utf-8")
    require_existing_file(regular)
    with pytest.raises(DataError, match=r"^data/b.csv: file not found$"):
        require_existing_file(tmp_path / "b.csv", file="data/b.csv")
    (tmp_path / "dangling.csv").symlink_to(tmp_path / "gone.csv")
    (tmp_path / "loop.csv").symlink_to(tmp_path / "loop.csv")
    for name in ("dangling.csv", "loop.csv"):
        with pytest.raises(DataError, match=rf"^{name}: is a symbolic link to nothing \(a missing target or a loop\)$"):
            require_existing_file(tmp_path / name, file=name)
    with pytest.raises(DataError, match=rf"^{re.escape(str(tmp_path))}: is a folder, not a regular file"):
        require_existing_file(tmp_path)


def test_an_error_quotes_values_only_from_inside_the_project(tmp_path):
    project, outside = tmp_path / "acme", tmp_path / "acme-old" / "leads.csv"
    project.mkdir()
    quoting = DataError("cannot read 'secret' as a date", file="data/leads.csv", row=3, column="date")
    structural = DataError("the column 'date' is missing", file="data/leads.csv", column="date")
    assert without_outside_values(quoting, project / "data" / "leads.csv", project) is quoting
    assert without_outside_values(quoting, None, project) is quoting
    assert without_outside_values(structural, outside, project) is structural
    redacted = without_outside_values(quoting, outside, project)
    assert str(redacted) == (
        "data/leads.csv, row 3, column 'date': cannot be read "
        "(values are not quoted: the file is outside the report project)"
    )
    assert (redacted.file, redacted.row, redacted.column) == ("data/leads.csv", 3, "date")
    for message in ("malformed line 3: secret", "cannot read: secret"):
        redacted = without_outside_values(DataError(message, file="x.csv"), outside, project)
        assert "secret" not in str(redacted)
