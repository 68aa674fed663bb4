"""Delivery by e-mail: the approved PDF (or other outputs) attached, sent over SMTP with STARTTLS.

```yaml
delivery:
  - type: smtp
    host: smtp.example.com
    port: 587                      # default 587
    user: reports@agency.example   # omit for a server that needs no login
    password_env: SMTP_PASSWORD    # the password is read from this environment variable
    from: reports@agency.example   # default: user
    to: [cfo@client.example]
    cc: []
    attach: [pdf]                  # default [pdf]
    subject: "{title} — {period}"  # {title}, {client}, {period} (named in the report's language)
    starttls: true                 # default true; false only for a server on this machine
    ca_file: /etc/ssl/agency-ca.pem   # optional: trust this CA for STARTTLS
```
The password never appears in a message, a log or the delivery record.
"""

from __future__ import annotations

import mimetypes
import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from roistory.api import ConfigError, DeliveryError, Receipt, hookimpl

KEYS = {"host", "port", "user", "password_env", "from", "attach", "subject", "starttls", "ca_file", "timeout"}
DEFAULT_SUBJECT = "{title} — {period}"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def _settings(destination) -> dict:
    extra = dict(destination.model_extra or {})
    unknown = sorted(set(extra) - KEYS)
    if unknown:
        raise ConfigError(f"unknown key for an smtp delivery; use {', '.join(sorted(KEYS))}", key=unknown[0])
    if not isinstance(extra.get("host"), str) or not extra["host"].strip():
        raise ConfigError("required: the SMTP server's host name", key="host")
    if not destination.to:
        raise ConfigError("required: at least one recipient's e-mail address", key="to")
    port = extra.get("port", 587)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(f"'{port}' is not a port number", key="port")
    if extra.get("user") and not extra.get("password_env"):
        raise ConfigError("required with user: the environment variable holding the password", key="password_env")
    if "password" in extra:
        raise ConfigError(
            "never put a password in report.yaml; name an environment variable with password_env", key="password"
        )
    sender = extra.get("from") or extra.get("user")
    if not sender or "@" not in str(sender):
        raise ConfigError("required: the sender's e-mail address (or a user that is one)", key="from")
    attach = extra.get("attach", ["pdf"])
    if not (isinstance(attach, list) and attach and all(a in ("html", "pdf", "json") for a in attach)):
        raise ConfigError("a list of html, pdf, json", key="attach")
    starttls = extra.get("starttls", True)
    if not starttls and extra["host"] not in LOCAL_HOSTS:
        raise ConfigError("plain-text SMTP is allowed only to this machine; keep starttls: true", key="starttls")
    return {
        "host": extra["host"],
        "port": port,
        "user": extra.get("user"),
        "password_env": extra.get("password_env"),
        "from": str(sender),
        "attach": attach,
        "subject": extra.get("subject", DEFAULT_SUBJECT),
        "starttls": bool(starttls),
        "ca_file": extra.get("ca_file"),
        "timeout": extra.get("timeout", 30),
    }


def _message(settings: dict, destination, run) -> EmailMessage:
    message = EmailMessage()
    fields = {"title": run.title, "client": run.client or "", "period": run.period_name}
    try:
        message["Subject"] = settings["subject"].format(**fields)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"use only {{title}}, {{client}}, {{period}}: {exc}", key="subject") from None
    message["From"] = settings["from"]
    message["To"] = ", ".join(destination.to)
    if destination.cc:
        message["Cc"] = ", ".join(destination.cc)
    message["Message-ID"] = make_msgid(domain=settings["from"].rsplit("@", 1)[1])
    message.set_content(f"{run.title}\n{run.period_name}\n")
    for fmt in settings["attach"]:
        # a run with editions lists its outputs as <edition>.<format>: attach every edition's
        paths = [path for key, path in run.outputs.items() if key == fmt or key.endswith(f".{fmt}")]
        if not paths:
            raise ConfigError(f"the run has no {fmt} output to attach", key="attach")
        for path in paths:
            maintype, subtype = (mimetypes.guess_type(path.name)[0] or "application/octet-stream").split("/")
            message.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return message


def _password(settings: dict) -> str | None:
    if not settings["user"]:
        return None
    password = os.environ.get(settings["password_env"])
    if password is None:
        raise ConfigError(f"the environment variable {settings['password_env']} is not set", key="password_env")
    return password


def _send(settings: dict, message: EmailMessage, password: str | None) -> None:
    server = f"{settings['host']}:{settings['port']}"
    try:
        with smtplib.SMTP(settings["host"], settings["port"], timeout=settings["timeout"]) as smtp:
            if settings["starttls"]:
                smtp.starttls(context=ssl.create_default_context(cafile=settings["ca_file"]))
            if settings["user"]:
                smtp.login(settings["user"], password)
            smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        reply = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        if password:
            reply = reply.replace(password, "***")
        raise DeliveryError(
            f"smtp {server}: login refused for user {settings['user']} ({exc.smtp_code} {reply})"
        ) from None
    except smtplib.SMTPNotSupportedError:
        raise DeliveryError(f"smtp {server}: the server does not offer STARTTLS (or login)") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"smtp {server}: recipients refused: {', '.join(exc.recipients)}") from None
    except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        raise DeliveryError(f"smtp {server}: {type(exc).__name__}: {exc}") from None


@hookimpl
def deliver(destination, run, dry_run):
    if destination.type != "smtp":
        return None
    settings = _settings(destination)
    server = f"{settings['host']}:{settings['port']}"
    recipients = [*destination.to, *destination.cc]
    if run is None:
        return Receipt(recipients=recipients, location=server)
    message = _message(settings, destination, run)
    if not dry_run:
        _send(settings, message, _password(settings))
    attached = ", ".join(part.get_filename() for part in message.iter_attachments())
    return Receipt(recipients=recipients, location=server, detail=f"{message['Message-ID']}: {attached}")
