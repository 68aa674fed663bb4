"""Checks that keep hostile or accidental input from hanging a run or leaking a file.

One rule per function, shared by every reader, renderer and writer:

- :func:`inside`: is a path, symlinks followed, inside a folder (never a string prefix:
  ``/work/acme-old`` is not inside ``/work/acme``).
- :func:`require_regular_file`: a FIFO or device is refused before anything opens it
  (opening a FIFO blocks until a writer comes, so a run would hang for good);
  :func:`require_existing_file` also says when the file is missing or a dangling link.
- :func:`image_type`: what an image is by its first bytes, not by its name.
- :func:`without_outside_values`: an error never quotes the contents of a file outside
  the report project (a symlink in ``data/`` cannot turn error messages into a way to
  read another file).
- :func:`csv_safe`: a cell a spreadsheet would run as a formula is defused (OWASP).
"""

from __future__ import annotations

import os
import re
import stat

from roistory.errors import DataError

__all__ = [
    "csv_safe",
    "image_type",
    "inside",
    "require_existing_file",
    "require_regular_file",
    "without_outside_values",
]


def inside(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> bool:
    """True when ``path`` (symlinks followed) is ``root`` or below it."""
    try:
        real, base = os.path.realpath(path), os.path.realpath(root)
        return os.path.commonpath([real, base]) == base
    except ValueError:  # different drives, or a mix of absolute and relative paths
        return False


def require_regular_file(path: str | os.PathLike[str], *, file: str | None = None) -> None:
    """Raise DataError unless ``path`` is a regular file (symlinks followed); a missing path passes.

    Checked with ``stat``, which never blocks, before any ``open``.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise DataError(f"cannot read: {exc.strerror}", file=file or str(path)) from None
    if stat.S_ISREG(mode):
        return
    kind = (
        "a folder"
        if stat.S_ISDIR(mode)
        else "a FIFO (named pipe)"
        if stat.S_ISFIFO(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a regular file"
    )
    raise DataError(f"is {kind}, not a regular file; roistory reads only regular files", file=file or str(path))


def require_existing_file(path: str | os.PathLike[str], *, file: str | None = None) -> None:
    """Raise DataError unless ``path`` is an existing regular file: not found, a symbolic link to
    nothing (a missing target or a loop), or another kind of file, each said in words."""
    if not os.path.exists(path):  # False, never an error, for a loop or a name too long
        if os.path.islink(path):
            raise DataError("is a symbolic link to nothing (a missing target or a loop)", file=file or str(path))
        raise DataError("file not found", file=file or str(path))
    require_regular_file(path, file=file)


def without_outside_values(
    error: DataError, path: str | os.PathLike[str] | None, project: str | os.PathLike[str]
) -> DataError:
    """``error``, or when ``path`` lies outside ``project`` and the message may quote the
    file's contents (a row's value, a malformed line), the same error without them."""
    if path is None or inside(path, project):
        return error
    if error.row is None and "malformed" not in str(error) and "cannot read" not in str(error):
        return error  # about the file's structure (a missing column), not its contents
    return DataError(
        "cannot be read (values are not quoted: the file is outside the report project)",
        file=error.file,
        row=error.row,
        column=error.column,
    )


_SVG = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!DOCTYPE[^>]*>\s*)?<svg[\s>]", re.DOTALL
)


def image_type(head: bytes) -> str | None:
    """The MIME type of a PNG, JPEG, GIF, WebP or SVG image from its first bytes; None otherwise."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if _SVG.match(head[:4096]):
        return "image/svg+xml"
    return None


# A spreadsheet treats a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> object:
    """A CSV cell a spreadsheet will not execute: text starting like a formula gets a leading '.

    Numbers are written as numbers (a negative number stays ``-3.5``); only text is changed.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
