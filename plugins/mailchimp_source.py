"""Source type ``mailchimp``: the Mailchimp campaign report export → ``email``.

Reads the CSV (or .xlsx) that Mailchimp's Reports page exports, one row per
campaign: Title → campaign, Send Date ("Oct 05, 2026 10:00 am") → date,
Total Recipients → sent, Successful Deliveries → delivered, Unique Opens →
opens, Unique Clicks → clicks, Unsubscribes, Total Bounces → bounces (else
Hard + Soft Bounces). Rates ("Open Rate", "Click Rate") are not read: the
report computes them from the counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from roistory.api import ExportFormat, SourceType, hookimpl, read_export

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


def read_mailchimp(source: SourceConfig, config: Config) -> pd.DataFrame:
    frame, mapping = read_export(source, config, MAILCHIMP)
    if "bounces" not in frame.columns and {"Hard Bounces", "Soft Bounces"} <= set(frame.columns) and "bounces" not in source.columns.values():
        hard = pd.to_numeric(frame["Hard Bounces"], errors="coerce")
        soft = pd.to_numeric(frame["Soft Bounces"], errors="coerce")
        frame["bounces"] = hard + soft
    return frame


@hookimpl
def register_data_sources(register):
    register(SourceType("mailchimp", read_mailchimp, "Mailchimp campaign report export (CSV or .xlsx) as email.", needs_path=True))
