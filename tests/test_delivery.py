"""Review and delivery: drafts, approval, the folder and smtp plugins, the delivery record.

The SMTP tests start a real server (aiosmtpd) on 127.0.0.1 with STARTTLS (a
certificate from trustme's test CA) and a login, and read back what it received.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import socket
import ssl
from datetime import date
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pypdf import PdfReader

USER, PASSWORD = "reports@agency.example", "correct horse battery staple"


class Inbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def messages(self):
        return [email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(tmp_path):
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        )
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535

    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=_free_port(),
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    controller.start()
    yield {"inbox": inbox, "port": controller.port, "ca_file": ca_file}
    controller.stop()


def smtp_destination(server, **overrides) -> dict:
    return {
        "type": "smtp",
        "host": "127.0.0.1",
        "port": server["port"],
        "user": USER,
        "password_env": "TEST_SMTP_PASSWORD",
        "to": ["cfo@client.example", "ceo@client.example"],
        "cc": ["account@agency.example"],
        "ca_file": str(server["ca_file"]),
        **overrides,
    }


def project(cli, folder: Path, delivery: list[dict], formats=("pdf", "json")) -> Path:
    config = cli.default_config()
    config["report"].update(client="tinyco", formats=list(formats))
    config["delivery"] = delivery
    return cli.write_project(folder, config)


def env_with_password(password: str = PASSWORD) -> dict:
    import os

    return {**os.environ, "TEST_SMTP_PASSWORD": password}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_run_deliver_sends_the_pdf_to_the_configured_recipients(smtp_server, cli, tmp_path):
    config = project(cli, tmp_path / "p", [smtp_destination(smtp_server)])
    out = tmp_path / "out"
    result = cli.run("run", config, "--out", out, "--deliver", cwd=tmp_path, env=env_with_password())
    assert result.code == 0, result.output
    assert PASSWORD not in result.output

    [envelope] = smtp_server["inbox"].envelopes
    assert sorted(envelope.rcpt_tos) == ["account@agency.example", "ceo@client.example", "cfo@client.example"]
    assert envelope.mail_from == USER
    [message] = smtp_server["inbox"].messages()
    assert message["Subject"] == "Tiny Co — Marketing Performance — October 2026"
    assert message["To"] == "cfo@client.example, ceo@client.example"
    [attachment] = list(message.iter_attachments())
    pdf = out / "tinyco-2026-10.pdf"
    assert attachment.get_filename() == pdf.name
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == pdf.read_bytes()  # byte-identical to the rendered file

    [record] = json.loads((out / "tinyco-2026-10.deliveries.json").read_text())
    assert record["destination"] == "smtp" and record["location"] == f"127.0.0.1:{smtp_server['port']}"
    assert record["recipients"] == ["cfo@client.example", "ceo@client.example", "account@agency.example"]
    assert record["outputs"] == {"pdf": sha256(pdf), "json": sha256(out / "tinyco-2026-10.json")}
    assert PASSWORD not in (out / "tinyco-2026-10.deliveries.json").read_text()


def test_delivering_twice_is_refused_unless_forced(smtp_server, cli, tmp_path):
    config = project(cli, tmp_path / "p", [smtp_destination(smtp_server, attach=["json"])], formats=("json",))
    out = tmp_path / "out"
    assert cli.run("run", config, "--out", out, "--deliver", cwd=tmp_path, env=env_with_password()).code == 0

    again = cli.run("deliver", out, cwd=tmp_path, env=env_with_password())
    cli.assert_rejected(again, None, "already delivered", "--force")
    assert len(smtp_server["inbox"].envelopes) == 1

    forced = cli.run("deliver", out, "--force", cwd=tmp_path, env=env_with_password())
    assert forced.code == 0, forced.output
    assert len(smtp_server["inbox"].envelopes) == 2
    records = json.loads((out / "tinyco-2026-10.deliveries.json").read_text())
    assert [r["forced"] for r in records] == [False, True]


def test_a_refused_login_is_one_line_naming_server_and_user_never_the_password(smtp_server, cli, tmp_path):
    config = project(cli, tmp_path / "p", [smtp_destination(smtp_server, attach=["json"])], formats=("json",))
    wrong = "hunter2-wrong-password"
    result = cli.run("run", config, "--out", tmp_path / "out", "--deliver", cwd=tmp_path, env=env_with_password(wrong))
    assert result.code == 1, result.output
    [line] = result.stderr.strip().splitlines()
    assert f"127.0.0.1:{smtp_server['port']}" in line and USER in line and "login refused" in line
    assert wrong not in result.output and "Traceback" not in result.output
    assert smtp_server["inbox"].envelopes == []
    assert not (tmp_path / "out" / "tinyco-2026-10.deliveries.json").exists()


def test_a_draft_is_watermarked_and_delivers_nothing(smtp_server, cli, tmp_path):
    config = project(cli, tmp_path / "p", [smtp_destination(smtp_server)], formats=("pdf", "html"))
    out = tmp_path / "out"
    result = cli.run("run", config, "--out", out, "--draft", "--deliver", cwd=tmp_path, env=env_with_password())
    assert result.code == 0, result.output
    assert "draft: nothing delivered" in result.stderr
    assert smtp_server["inbox"].envelopes == []
    pages = PdfReader(out / "tinyco-2026-10.pdf").pages
    assert len(pages) > 1 and all("DRAFT" in page.extract_text() for page in pages)
    assert json.loads((out / "tinyco-2026-10.manifest.json").read_text())["draft"] is True

    refused = cli.run("approve", out, cwd=tmp_path)
    cli.assert_rejected(refused, None, "a draft cannot be approved")
    refused = cli.run("deliver", out, cwd=tmp_path, env=env_with_password())
    cli.assert_rejected(refused, None, "a draft is never delivered")
    assert smtp_server["inbox"].envelopes == []


def test_a_final_render_has_no_watermark(cli, tmp_path):
    config = project(cli, tmp_path / "p", [], formats=("pdf",))
    assert cli.run("run", config, "--out", tmp_path / "out", cwd=tmp_path).code == 0
    pages = PdfReader(tmp_path / "out" / "tinyco-2026-10.pdf").pages
    assert not any("DRAFT" in page.extract_text() for page in pages)


def test_review_then_approve_then_deliver_to_a_dated_folder(cli, tmp_path):
    config = project(cli, tmp_path / "p", [{"type": "folder", "path": "../archive"}], formats=("html", "json"))
    out = tmp_path / "out"
    assert cli.run("run", config, "--out", out, cwd=tmp_path).code == 0

    not_yet = cli.run("deliver", out, cwd=tmp_path)
    cli.assert_rejected(not_yet, None, "not approved", "roistory approve")

    approved = cli.run("approve", out, "--by", "Account lead", cwd=tmp_path)
    assert approved.code == 0, approved.output
    approval = json.loads((out / "tinyco-2026-10.approval.json").read_text())
    assert approval["approved_by"] == "Account lead"

    delivered = cli.run("deliver", out, cwd=tmp_path)
    assert delivered.code == 0, delivered.output
    folder = tmp_path / "archive" / date.today().isoformat() / "tinyco"  # relative to report.yaml
    for name in ("tinyco-2026-10.html", "tinyco-2026-10.json"):
        assert (folder / name).read_bytes() == (out / name).read_bytes()
    [record] = json.loads((out / "tinyco-2026-10.deliveries.json").read_text())
    assert record["location"] == str(folder) and record["outputs"] == approval["outputs"]


def test_an_output_changed_after_approval_is_not_delivered(cli, tmp_path):
    config = project(cli, tmp_path / "p", [{"type": "folder", "path": "../archive"}], formats=("json",))
    out = tmp_path / "out"
    assert cli.run("run", config, "--out", out, cwd=tmp_path).code == 0
    assert cli.run("approve", out, cwd=tmp_path).code == 0
    report = out / "tinyco-2026-10.json"
    report.write_text(report.read_text().replace("Tiny Co", "Tampered Co"))
    result = cli.run("deliver", out, cwd=tmp_path)
    cli.assert_rejected(result, None, "tinyco-2026-10.json", "changed since")
    assert not (tmp_path / "archive").exists()


@pytest.mark.parametrize(
    ("delivery", "fragments"),
    [
        pytest.param(
            [{"type": "carrier_pigeon", "to": ["cfo@client.example"]}],
            ["delivery[0].type", "no installed plugin delivers type 'carrier_pigeon'"],
            id="unknown-type",
        ),
        pytest.param(
            [
                {
                    "type": "smtp",
                    "host": "smtp.example.com",
                    "from": "r@agency.example",
                    "to": ["cfo@client.example", "the CFO"],
                }
            ],
            ["delivery[0].to", "'the CFO' is not an e-mail address"],
            id="not-an-address",
        ),
        pytest.param(
            [
                {
                    "type": "smtp",
                    "host": "smtp.example.com",
                    "from": "r@agency.example",
                    "to": ["cfo@client.example"],
                    "password": "secret",
                }
            ],
            ["delivery[0].password", "password_env"],
            id="password-in-yaml",
        ),
        pytest.param([{"type": "folder"}], ["delivery[0].path", "required"], id="folder-without-path"),
        pytest.param(
            [
                {"type": "smtp", "host": "a.example", "from": "r@agency.example", "to": ["x@y.example"]},
                {"type": "smtp", "host": "b.example", "from": "r@agency.example", "to": ["x@y.example"]},
            ],
            ["delivery", "two deliveries named 'smtp'"],
            id="same-name-twice",
        ),
    ],
)
def test_bad_delivery_settings_are_bad_input_before_any_work(cli, tmp_path, delivery, fragments):
    config = project(cli, tmp_path / "p", delivery, formats=("json",))
    result = cli.run("run", config, "--out", tmp_path / "out", cwd=tmp_path)
    cli.assert_rejected(result, tmp_path / "out", str(config), *fragments)


def test_a_missing_password_variable_is_bad_input(smtp_server, cli, tmp_path):
    config = project(cli, tmp_path / "p", [smtp_destination(smtp_server, attach=["json"])], formats=("json",))
    import os

    env = {k: v for k, v in os.environ.items() if k != "TEST_SMTP_PASSWORD"}
    result = cli.run("run", config, "--out", tmp_path / "out", "--deliver", cwd=tmp_path, env=env)
    assert result.code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert "TEST_SMTP_PASSWORD is not set" in line
    assert smtp_server["inbox"].envelopes == []
