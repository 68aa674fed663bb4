"""Mutation testing with mutmut's mutation operators, run fast: one process imports the
package and pytest once, then forks a child per mutant that swaps the mutated module's code
in memory and runs the test selection. No file is written, so the working tree is safe.

    nice -n 19 .venv/bin/python scripts/mutation_fast.py periods tests/test_periods_edges.py ...
        [--only FUNCTION ...] [--lines N ...] [--redo results.json] [--preload MODULE ...]
        [--disable TYPE,...] [--json results.json]

Why not ``mutmut run``: on a busy machine its per-mutant start (a new Python, pandas,
pyarrow) costs most of the run; here a mutant costs its tests only. Same mutants, same
statuses (killed, timeout, survived). See docs/testing.md.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import io
import json
import os
import signal
import sys
import time
import tokenize
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]


def restricted(source: str, functions: set[str]) -> str:
    """``source`` with mutmut's ``# pragma: no mutate`` on every line outside ``functions``."""
    keep: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name in functions:
            keep.update(range(node.lineno, node.end_lineno + 1))
    ends = {
        token.start[0]
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type in (tokenize.NEWLINE, tokenize.NL)
    }
    lines = source.splitlines()
    for number in sorted(ends - keep):
        if lines[number - 1].strip():
            lines[number - 1] += "  # pragma: no mutate"
    return "\n".join(lines) + "\n"


def mutants(source: str, filename: str, disabled: set[str]):
    import mutmut

    config = SimpleNamespace(
        mutation_types_to_apply=set(mutmut.mutations_by_type) - disabled, covered_lines_by_filename=None
    )
    context = mutmut.Context(source=source, filename=filename, config=config)
    for mutation_id in mutmut.list_mutations(context):
        one = mutmut.Context(source=source, mutation_id=mutation_id, filename=filename, config=config)
        mutated, count = mutmut.mutate(one)
        if count:
            yield mutation_id, mutated


def swap(module_name: str, code: str, filename: str) -> None:
    """Run ``code`` in the module's namespace, then rebind every ``from module import name``
    copy held by another loaded roistory module: otherwise a caller that imported a function
    before the fork would keep the original and the mutant would survive untested."""
    module = importlib.import_module(module_name)
    before = dict(vars(module))
    exec(compile(code, filename, "exec"), module.__dict__)  # noqa: S102 (our own source, mutated)
    changed = {name: old for name, old in before.items() if module.__dict__.get(name) is not old}
    # functions and classes are matched by identity (an alias is still the same object);
    # constants by name too, since small numbers and strings are shared objects
    functions = {id(old): module.__dict__[name] for name, old in changed.items() if callable(old)}
    for other in list(sys.modules.values()):
        if other is module or not getattr(other, "__name__", "").startswith("roistory"):
            continue
        for name, value in list(vars(other).items()):
            if id(value) in functions:
                setattr(other, name, functions[id(value)])
            elif name in changed and value is changed[name]:
                setattr(other, name, module.__dict__[name])


def run_child(module_name: str, code: str, filename: str, tests: list[str]) -> int:
    """Fork: the child swaps in ``code`` and runs the tests quietly."""
    pid = os.fork()
    if pid:
        return pid
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        swap(module_name, code, filename)
        import pytest

        code_ = pytest.main(["-x", "-q", "-p", "no:cacheprovider", "-p", "no:roistory", *tests])
        os._exit(int(code_))
    except BaseException:  # noqa: BLE001 - a mutant that breaks the import is killed
        os._exit(3)


def wait(pid: int, timeout: float) -> tuple[str, float]:
    started = time.monotonic()
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            return ("survived" if code == 0 else "killed"), time.monotonic() - started
        if time.monotonic() - started > timeout:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout", timeout
        time.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "module", help="a module of core/ (periods, sources.fx) or of plugins/ (plugins.markov_attribution)"
    )
    parser.add_argument("tests", nargs="+")
    parser.add_argument("--only", nargs="*", default=[], help="mutate only these functions")
    parser.add_argument(
        "--lines", nargs="*", type=int, default=[], help="only the mutants on these lines (re-checking survivors)"
    )
    parser.add_argument(
        "--redo", help="only the mutants a previous --json file lists as survived or timeout (re-checking survivors)"
    )
    parser.add_argument("--disable", default="annassign,fstring", help="mutmut mutation types to skip")
    parser.add_argument(
        "--preload", nargs="*", default=[], help="modules the tests import, imported once here (never test modules)"
    )
    parser.add_argument("--json", help="write every mutant's status here")
    parser.add_argument(
        "--shard", default="1/1", help="K/N: only every N-th mutant, starting at the K-th (N runs share the cores)"
    )
    args = parser.parse_args()

    os.chdir(ROOT)
    parts = args.module.split(".")
    path = ROOT / "plugins" / Path(*parts[1:]) if parts[0] == "plugins" else ROOT / "core" / Path(*parts)
    path = path.with_suffix(".py")
    original = path.read_text(encoding="utf-8")
    source = restricted(original, set(args.only)) if args.only else original
    module_name = f"roistory.{args.module}"
    # imported once here, inherited by every child: the module, its importers, pandas, pytest
    importlib.import_module(module_name)
    importlib.import_module("roistory.config")
    importlib.import_module("roistory.goals")
    importlib.import_module("pytest")
    if args.module in ("pdf", "safety", "resources"):  # their tests use the URL fetcher, which
        # loads WeasyPrint lazily: once here rather than in every child
        importlib.import_module("weasyprint")
    # Third-party and roistory modules only: a test module imported here would keep the
    # unmutated functions it imported, and swap() rebinds only roistory's own modules.
    for name in args.preload:
        importlib.import_module(name)

    # the baseline swaps in the unmutated source the same way: if that alone failed a test,
    # every mutant would count as killed
    status, baseline = wait(run_child(module_name, original, str(path), args.tests), 1800)
    if status != "survived":
        print(f"the tests fail with the module swapped but not mutated ({status}): fix that first", file=sys.stderr)
        return 1
    timeout = max(60.0, 10 * baseline)
    print(f"baseline: the tests pass in {baseline:.1f} s; a mutant times out after {timeout:.0f} s", flush=True)
    redo = None
    if args.redo:  # a mutant is known by its line and its mutated text
        previous = json.loads(Path(args.redo).read_text(encoding="utf-8"))
        redo = {(r["line"], r["after"]) for r in previous if r["status"] != "killed"}
    shard, shards = (int(part) for part in args.shard.split("/"))
    disabled = set(filter(None, args.disable.split(",")))
    results = []
    for number, (mutation_id, mutated) in enumerate(mutants(source, str(path), disabled)):
        if number % shards != shard - 1:
            continue
        line = mutation_id.line_number
        if args.lines and line + 1 not in args.lines:
            continue
        mutated_lines = mutated.splitlines()  # a mutant that drops a decorator is a line shorter
        after = mutated_lines[line] if line < len(mutated_lines) else "(end of file)"
        after = after.replace("  # pragma: no mutate", "").strip()
        if redo is not None and (line + 1, after) not in redo:
            continue
        outcome, seconds = wait(run_child(module_name, mutated, str(path), args.tests), timeout)
        before = original.splitlines()[line].strip()
        results.append({"line": line + 1, "status": outcome, "before": before, "after": after})
        print(f"{outcome.upper():8} line {line + 1}: {before}  ->  {after}", flush=True)
        if args.json:  # written as it goes: an interrupted run keeps what it found
            Path(args.json).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    counts = {s: sum(r["status"] == s for r in results) for s in ("killed", "timeout", "survived")}
    print(f"{args.module}: {len(results)} mutants, " + ", ".join(f"{n} {s}" for s, n in counts.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
