"""``roistory batch``: many clients in parallel, one failing client isolated, month-end overrides."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from pypdf import PdfReader

from roistory.testing import pdf_text

ROOT = Path(__file__).resolve().parents[1]
AGENCY = ROOT / "examples" / "agency"


def clients(cli, root: Path, names: list[str], broken: str | None = None, **report) -> None:
    for name in names:
        config = cli.default_config()
        config["report"].update(client=name, **report)
        files = {}
        if name == broken:  # a cost that is not a number: a DataError naming file, row and column
            files = {"data/spend.csv": "date,channel,cost\n2026-10-01,Email,twelve\n"}
        cli.write_project(root / name, config, files=files)


def summary_rows(stdout: str) -> dict[str, str]:
    """client -> its line of the summary table."""
    lines = stdout.strip().splitlines()
    assert lines[0].split() == ["client", "status", "pages", "seconds", "outputs"]
    return {line.split()[0]: line for line in lines[1:-1]}


def test_one_broken_client_fails_alone_with_one_line(cli, tmp_path):
    clients(cli, tmp_path / "clients", ["alpha", "beta", "gamma", "delta"], broken="gamma", formats=["pdf", "json"])
    out = tmp_path / "out"
    result = cli.run(
        "batch", str(tmp_path / "clients" / "*" / "report.yaml"), "--out", out, "--jobs", "2", cwd=tmp_path
    )
    assert result.code == 1, result.output
    assert "Traceback" not in result.output

    rendered = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.pdf"))
    assert rendered == [f"{c}/{c}-2026-10.pdf" for c in ("alpha", "beta", "delta")]
    assert not (out / "gamma").exists() or not any((out / "gamma").iterdir())

    failures = [line for line in result.stderr.splitlines() if "FAILED" in line]
    assert len(failures) == 1
    assert "gamma" in failures[0] and "spend.csv" in failures[0] and "cost" in failures[0]

    rows = summary_rows(result.stdout)
    assert rows["gamma"].split()[1] == "FAILED" and "spend.csv" in rows["gamma"]
    for client in ("alpha", "beta", "delta"):
        status, pages, seconds, outputs = rows[client].split(maxsplit=4)[1:]
        pdf = out / client / f"{client}-2026-10.pdf"
        assert status == "ok" and int(pages) == len(PdfReader(pdf).pages)
        assert float(seconds) > 0 and str(pdf) in outputs
    assert result.stdout.strip().splitlines()[-1] == "3 of 4 reports rendered"


def test_month_end_overrides_and_delivery_apply_to_every_client(cli, tmp_path):
    clients(cli, tmp_path / "clients", ["alpha", "beta"], formats=["html"])
    for name in ("alpha", "beta"):
        config = tmp_path / "clients" / name / "report.yaml"
        config.write_text(config.read_text() + "delivery:\n- {type: folder, path: ../../archive}\n")
    batch_file = tmp_path / "clients.txt"
    batch_file.write_text("# month end\nclients/alpha/report.yaml\nclients/beta/report.yaml  # second\n")
    out = tmp_path / "out"
    result = cli.run(
        "batch",
        batch_file,
        "--out",
        out,
        "--period",
        "2026-09",
        "--locale",
        "es",
        "--format",
        "json",
        "--deliver",
        cwd=tmp_path,
    )
    assert result.code == 0, result.output
    for name in ("alpha", "beta"):
        report = json.loads((out / name / f"{name}-2026-09.json").read_text())
        assert report["report"]["period"] == {"start": "2026-09-01", "end": "2026-09-30"}
        assert report["report"]["locale"] == "es"
        assert not (out / name / f"{name}-2026-09.html").exists()  # --format over the config's html
        archived = tmp_path / "archive" / date.today().isoformat() / name / f"{name}-2026-09.json"
        assert archived.read_bytes() == (out / name / f"{name}-2026-09.json").read_bytes()
        [record] = json.loads((out / name / f"{name}-2026-09.deliveries.json").read_text())
        assert record["destination"] == "folder"
    assert "(delivered: folder)" in result.stdout


def test_a_batch_file_listing_a_missing_config_is_bad_input(cli, tmp_path):
    clients(cli, tmp_path / "clients", ["alpha"])
    batch_file = tmp_path / "clients.txt"
    batch_file.write_text("clients/alpha/report.yaml\nclients/omega/report.yaml\n")
    result = cli.run("batch", batch_file, "--out", tmp_path / "out", cwd=tmp_path)
    cli.assert_rejected(result, tmp_path / "out", "clients.txt", "line 2", "'clients/omega/report.yaml' not found")


def test_a_glob_matching_nothing_and_a_missing_config_are_bad_input(cli, tmp_path):
    result = cli.run("batch", str(tmp_path / "nowhere" / "*.yaml"), "--out", tmp_path / "out", cwd=tmp_path)
    cli.assert_rejected(result, tmp_path / "out", "no config matches")
    result = cli.run("batch", tmp_path / "missing.yaml", "--out", tmp_path / "out", cwd=tmp_path)
    cli.assert_rejected(result, tmp_path / "out", "missing.yaml: file not found")


def test_batch_does_not_import_the_cli():
    done = subprocess.run(
        [sys.executable, "-c", "import sys, roistory.batch; print('roistory.cli' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "False"


def test_the_agency_example_renders_both_clients_in_one_command(cli, tmp_path):
    out = tmp_path / "out"
    result = cli.run("batch", AGENCY / "clients.txt", "--out", out, "--format", "pdf,html", cwd=tmp_path)
    assert result.code == 0, result.output

    norte = out / "norte-cafe" / "norte-cafe-2026-10"
    text = pdf_text(norte.with_suffix(".pdf"))
    assert "Norte Café — Rendimiento de marketing" in text and "octubre de 2026" in text
    html = norte.with_suffix(".html").read_text(encoding="utf-8")
    logo = (AGENCY / "clients" / "norte" / "brand" / "logo.svg").read_bytes()
    assert f'<img class="logo" src="data:image/svg+xml;base64,{base64.b64encode(logo).decode()}"' in html
    assert "--primary: #5b3a29" in html

    taipei = out / "taipei-digital" / "taipei-digital-2026-10"
    text = pdf_text(taipei.with_suffix(".pdf"))
    assert "台北數位 — 行銷績效報告" in text and "2026年10月" in text
    assert '<img class="logo"' not in taipei.with_suffix(".html").read_text(encoding="utf-8")


def test_edition_renders_one_document_per_edition_for_every_client(cli, tmp_path):
    clients(cli, tmp_path / "clients", ["alpha", "beta"], formats=["pdf", "json"])
    out = tmp_path / "out"
    result = cli.run(
        "batch", str(tmp_path / "clients" / "*" / "report.yaml"), "--out", out, "--edition", "board,sales", cwd=tmp_path
    )
    assert result.code == 0, result.output
    for name in ("alpha", "beta"):
        for edition in ("board", "sales"):
            document = json.loads((out / name / f"{name}-2026-10-{edition}.json").read_text())
            assert document["report"]["edition"] == edition
            assert (out / name / f"{name}-2026-10-{edition}.pdf").is_file()
        assert not (out / name / f"{name}-2026-10.pdf").exists()  # editions replace the full report
        status, pages = summary_rows(result.stdout)[name].split()[1:3]
        assert status == "ok" and int(pages) == len(PdfReader(out / name / f"{name}-2026-10-board.pdf").pages)


def test_an_unknown_edition_is_bad_input(cli, tmp_path):
    clients(cli, tmp_path / "clients", ["alpha"], formats=["json"])
    result = cli.run(
        "run",
        tmp_path / "clients" / "alpha" / "report.yaml",
        "--out",
        tmp_path / "out",
        "--edition",
        "bored",
        cwd=tmp_path,
    )
    assert result.code == 2, result.output
    assert "unknown edition 'bored'" in result.output and "--edition" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
