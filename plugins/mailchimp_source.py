"""Source type ``mailchimp``: the Mailchimp campaign report export → ``email``.

Reads the CSV (or .xlsx) that Mailchimp's Reports page exports, one row per
campaign: Title → campaign, Send Date ("Oct 05, 2026 10:00 am") → date,
Total Recipients → sent, Successful Deliveries → delivered, Unique Opens →
opens, Unique Clicks → clicks, Unsubscribes, Total Bounces → bounces (else
Hard + Soft Bounces). Rates ("Open Rate", "Click Rate") are not read: the
report computes them from the counts.

Users often download the wrong Mailchimp file for this: an audience export or a
campaign's activity list ("Opened", "Clicked": one row per contact, with email
addresses). Such a file is refused with a line saying which export to use, so no
personal data is read and no contact list is taken for campaign totals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from roistory.api import DataError, ExportFormat, SourceType, hookimpl, read_export

if TYPE_CHECKING:
    from roistory.api import Config, SourceConfig

MAILCHIMP = ExportFormat(
    "Mailchimp campaign report",
    {
        "campaign": ("Title", "Campaign Title", "Campaign Name", "Subject"),
        "date": ("Send Date", "Sent Date", "Send Time"),
        "sent": ("Total Recipients", "Emails Sent", "Recipients"),
        "delivered": ("Successful Deliveries", "Delivered"),
        "opens": ("Unique Opens", "Opens"),
        "clicks": ("Unique Clicks", "Clicks"),
        "unsubscribes": ("Unsubscribes", "Unsubscribed"),
        "bounces": ("Total Bounces", "Bounces"),
    },
    required=("campaign", "date", "sent"),
)


# Headers of Mailchimp's per-contact files: the audience export (MEMBER_RATING, OPTIN_TIME …)
# and a campaign's activity lists; their first column is "Email Address"
_CONTACT_HEADERS = ("Email Address", "MEMBER_RATING", "OPTIN_TIME", "CONFIRM_TIME", "LEID", "EUID")


def read_mailchimp(source: SourceConfig, config: Config) -> pd.DataFrame:
    try:
        frame, mapping = read_export(source, config, MAILCHIMP)
    except DataError as error:
        _refuse_contact_lists(source, config, error)
        raise
    if (
        "bounces" not in frame.columns
        and {"Hard Bounces", "Soft Bounces"} <= set(frame.columns)
        and "bounces" not in source.columns.values()
    ):
        frame["bounces"] = _count(frame, "Hard Bounces", source, config) + _count(frame, "Soft Bounces", source, config)
    return frame


def _refuse_contact_lists(source: SourceConfig, config: Config, error: DataError) -> None:
    """A per-contact Mailchimp file (audience export, activity list) where the campaign report
    was expected: say which export to download instead."""
    path = config.resolve(source.path or "")
    try:
        with path.open("rb") as handle:
            head = handle.read(8192).decode("utf-8", errors="ignore")
    except OSError:
        return
    first = head.lstrip("\ufeff").splitlines()[0] if head.strip() else ""
    if any(name in first for name in _CONTACT_HEADERS):
        raise DataError(
            "is a Mailchimp contact list (one row per email address), not the campaign report: export the "
            "campaign reports from the Reports page instead (one row per campaign: Title, Send Date, Total Recipients "
            "…)",
            file=error.file,
            row=1,
        ) from None


def _count(frame: pd.DataFrame, header: str, source: SourceConfig, config: Config) -> pd.Series:
    """A count column Mailchimp writes as plain digits ("51"); anything else is an error rather
    than a guess (the core's locale rules do not see these two columns)."""
    text = frame[header].astype("str").str.strip()
    bad = frame[header].notna() & ~text.str.fullmatch(r"\d+").fillna(False)
    if bad.any():
        row = frame.index[bad.to_numpy()][0]
        raise DataError(
            f"'{frame.loc[row, header]}' is not a count; set columns: {{'Total Bounces': bounces}} or fix the file",
            file=str(config.resolve(source.path or "")),
            row=row,
            column=header,
        )
    return pd.to_numeric(text.where(frame[header].notna()), errors="coerce")


@hookimpl
def register_data_sources(register):
    register(
        SourceType(
            "mailchimp", read_mailchimp, "Mailchimp campaign report export (CSV or .xlsx) as email.", needs_path=True
        )
    )
