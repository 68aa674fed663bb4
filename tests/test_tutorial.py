"""docs/writing_plugins.md runs as printed.

Every code block of the tutorial is either a shell session (```console, ``$ `` lines are
typed into one bash shell, in order; the other lines are the output the page promises) or
a file (the block after ``<!-- tutorial-file: PATH -->`` is written to PATH, or appended
to it when the page adds to a file it started earlier). The test follows the page in a
fresh folder with a virtualenv of its own, then checks that the plugin it built is the
one shipped in examples/plugins/roistory-crm-csv.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "writing_plugins.md"
EXAMPLE = ROOT / "examples" / "plugins" / "roistory-crm-csv"
MARKER = "@@tutorial-step@@"


def tutorial_steps(text: str) -> list[tuple[str, str, str]]:
    """("file", path, content) and ("command", command, expected output), in page order."""
    steps: list[tuple[str, str, str]] = []
    target = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if found := re.fullmatch(r"<!-- tutorial-file: (\S+) -->", line.strip()):
            target = found.group(1)
        elif line.startswith("```") and len(line) > 3:
            lang = line[3:].strip()
            end = lines.index("```", i + 1)
            body = lines[i + 1 : end]
            if target:
                steps.append(("file", target, "\n".join(body)))
            else:
                assert lang == "console", f"line {i + 1}: a {lang} block that is neither a file nor a session"
                steps += _session(body)
            target, i = None, end
        elif line.strip() and not line.startswith("<!--"):
            target = None  # a marker applies to the block right after it
        i += 1
    return steps


def _session(body: list[str]) -> list[tuple[str, str, str]]:
    steps: list[tuple[str, str, str]] = []
    for line in body:
        if line.startswith("$ "):
            steps.append(("command", line[2:], ""))
        elif steps:
            kind, command, expected = steps[-1]
            steps[-1] = (kind, command, f"{expected}\n{line}".strip("\n"))
    return steps


def _expected_pattern(line: str) -> re.Pattern[str]:
    """An output line as printed, with runs of spaces flexible and '…' standing for anything."""
    parts = [re.escape(part) for part in line.strip().split("…")]
    return re.compile(".*".join(r"\s+".join(p.split(r"\ ")) for p in parts))


def _tutorial_env(tmp_path: Path) -> dict[str, str]:
    """A virtualenv of the tutorial's own that sees roistory's installed packages.

    `pip install -e '.[test]'` then installs the plugin here, never into the suite's own
    environment, and finds every dependency already installed (no network, no build
    isolation needed).
    """
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "roistory-suite.pth").write_text(f"import site; site.addsitedir({sysconfig.get_path('purelib')!r})\n")
    bin_dir = venv / "bin"
    for command, module in {"roistory": "roistory.cli", "pytest": "pytest"}.items():
        script = bin_dir / command
        script.write_text(f"#!{bin_dir / 'python'}\nimport runpy\nrunpy.run_module({module!r}, run_name='__main__')\n")
        script.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROISTORY_", "PYTEST_", "VIRTUAL_ENV"))}
    env.update(
        PATH=f"{bin_dir}:/usr/bin:/bin", PIP_NO_INDEX="1", PIP_NO_BUILD_ISOLATION="0", PIP_DISABLE_PIP_VERSION_CHECK="1"
    )
    return env


def _strip_markers(text: str) -> str:
    lines = [line for line in text.splitlines() if not line.strip().startswith(("# -- start ", "# -- end "))]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def test_the_tutorial_runs_as_printed(tmp_path):
    steps = tutorial_steps(PAGE.read_text(encoding="utf-8"))
    assert sum(kind == "command" for kind, *_ in steps) >= 10
    work = tmp_path / "work"
    work.mkdir()

    script, commands, written = [f"cd {work}"], [], set()
    for kind, what, content in steps:
        if kind == "file":
            path = work / what
            separator = "\n\n" if what in written else ""
            written.add(what)
            script.append(f"mkdir -p {path.parent} && printf '%s' {_quoted(separator + content + chr(10))} >> {path}")
        else:
            commands.append((what, content))
            script += [what, f'echo "{MARKER} $?"']
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        env=_tutorial_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )
    outputs = done.stdout.split(MARKER)
    assert len(outputs) == len(commands) + 1, done.stdout[-3000:]

    # outputs[0] is the first command's output; each later chunk starts with the previous
    # command's exit status, then holds the next command's output
    statuses = [int(chunk.split("\n", 1)[0]) for chunk in outputs[1:]]
    texts = [outputs[0]] + [chunk.split("\n", 1)[1] if "\n" in chunk else "" for chunk in outputs[1:-1]]
    for (command, expected), status, text in zip(commands, statuses, texts, strict=True):
        expects_error = expected.startswith("Error:")
        assert (status != 0) == expects_error, f"`{command}` exited {status}:\n{text}"
        for line in filter(str.strip, expected.splitlines()):
            assert _expected_pattern(line).search(text), f"`{command}` did not print {line!r}; it printed:\n{text}"

    for name in ("pyproject.toml", "roistory_crm_csv.py", "tests/test_roistory_crm_csv.py", "tests/data/deals.csv"):
        built = (work / "roistory-crm-csv" / name).read_text(encoding="utf-8")
        shipped = (EXAMPLE / name).read_text(encoding="utf-8")
        assert _strip_markers(built) == _strip_markers(shipped), f"the tutorial's {name} differs from the example's"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"
