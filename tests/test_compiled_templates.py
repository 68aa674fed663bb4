"""Compiled templates are kept on disk (Jinja's bytecode cache) and reused only when they match.

A report compiles about fifteen templates; keeping the compiled code saves that work on the
next run. What must hold: a second run renders the same bytes from the kept code; a changed
template is compiled again; a plugin that adds a filter gets code of its own; a folder that
cannot be written costs only the saving.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import jinja2
import pytest

from roistory.config import load_config
from roistory.pipeline import build_report
from roistory.render import compiled_templates, make_environment, render_html, resolve_theme

EXAMPLE = Path(__file__).parents[1] / "examples" / "acme" / "report.yaml"


@pytest.fixture
def cache_folder(tmp_path, monkeypatch):
    """Jinja's private folder under a temp directory of this test's own."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path / f"_jinja2-cache-{os.getuid()}"


@pytest.fixture(scope="module")
def report():
    return build_report(load_config(EXAMPLE))


def _compiles(monkeypatch) -> list[str]:
    names: list[str] = []
    compile_ = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):
        names.append(name)
        return compile_(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return names


def test_a_second_run_renders_the_same_report_without_compiling(report, cache_folder, monkeypatch):
    compiled = _compiles(monkeypatch)
    first = render_html(report)
    assert len(compiled) >= 10  # the page and every section's template
    kept = sorted(p.name for p in cache_folder.iterdir())
    assert len(kept) == len(compiled) and all(name.startswith("__roistory_") for name in kept)
    compiled.clear()
    assert render_html(report) == first
    assert compiled == []


def test_a_changed_template_is_compiled_again(cache_folder):
    sources = {"page.html": "one {{ 1 + 1 }}"}
    env = jinja2.Environment(loader=jinja2.DictLoader(sources))
    env.bytecode_cache = compiled_templates(env)
    assert env.get_template("page.html").render() == "one 2"
    sources["page.html"] = "two {{ 2 + 2 }}"
    again = jinja2.Environment(loader=jinja2.DictLoader(sources))
    again.bytecode_cache = compiled_templates(again)
    assert again.get_template("page.html").render() == "two 4"


def test_what_plugins_add_is_part_of_the_key(report, cache_folder):
    plain = make_environment(report, resolve_theme(report))
    with_filter = make_environment(report, resolve_theme(report))
    with_filter.filters["initials"] = lambda text: "".join(word[0] for word in text.split())
    keyed = compiled_templates(with_filter)
    assert plain.bytecode_cache.pattern != keyed.pattern
    assert plain.bytecode_cache.pattern == make_environment(report, resolve_theme(report)).bytecode_cache.pattern


def test_a_full_disk_only_costs_the_saving(report, cache_folder, monkeypatch):
    expected = render_html(report)
    for kept in cache_folder.iterdir():
        kept.unlink()

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", full_disk)
    assert render_html(report) == expected
    assert list(cache_folder.iterdir()) == []


def test_no_cache_where_jinja_finds_no_safe_folder(report, tmp_path, monkeypatch):
    """The per-user folder is a symbolic link (someone else's trick to read or plant compiled
    code): Jinja refuses it, and the report renders without a cache."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (tmp_path / "planted").mkdir()
    (tmp_path / f"_jinja2-cache-{os.getuid()}").symlink_to(tmp_path / "planted")
    env = make_environment(report, resolve_theme(report))
    assert env.bytecode_cache is None
    assert "<html" in render_html(report)
    assert list((tmp_path / "planted").iterdir()) == []
