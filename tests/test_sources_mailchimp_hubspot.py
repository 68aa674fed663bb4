"""Mailchimp and HubSpot files as users download them (issue 9): a HubSpot contacts export
with the stage-entry headers HubSpot writes since 2024, the Mailchimp files users pick by
mistake (audience export, activity list), bounces given only as hard + soft. Expected values
are typed here from the rows written, not computed through roistory."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from roistory.config import config_from_dict
from roistory.errors import DataError
from roistory.plugin_manager import build_registry
from roistory.sources import load_sources


def load(tmp_path: Path, kind: str, name: str, content: str, table: str):
    (tmp_path / name).write_text(content, encoding="utf-8")
    config = config_from_dict(
        {"report": {"period": "2026-10"}, "sources": [{"name": kind, "type": kind, "path": name, "table": table}]},
        path=tmp_path / "report.yaml",
    )
    tables, inputs = load_sources(config, build_registry().sources)
    return tables[table], inputs[0]


def written(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)  # quotes in headers doubled, as HubSpot writes them
    return out.getvalue()


# a contacts export made after HubSpot's 2024 lifecycle change: Record ID, names, Email, Create
# Date, Lifecycle Stage, the "Date entered …" columns, Original Traffic Source
HUBSPOT_HEADER = [
    "Record ID", "First Name", "Last Name", "Email", "Create Date", "Lifecycle Stage",
    'Date entered "Marketing Qualified Lead (Lifecycle Stage Pipeline)"',
    'Date entered "Sales Qualified Lead (Lifecycle Stage Pipeline)"',
    'Date entered "Opportunity (Lifecycle Stage Pipeline)"',
    'Date entered "Customer (Lifecycle Stage Pipeline)"',
    "Original Traffic Source",
]  # fmt: skip
HUBSPOT_ROWS = [
    ["701", "Ana", "Ruiz", "ana@nimbus.example", "2026-09-03 10:12", "customer", "2026-09-05 08:00", "2026-09-12 15:30", "2026-09-20 11:00", "2026-10-14 16:45", "PAID_SEARCH"],  # noqa: E501 (data as exported)
    ["702", "Ben", "Okafor", "ben@summit.example", "2026-10-02 09:41", "salesqualifiedlead", "2026-10-03 12:00", "2026-10-09 10:00", "", "", "PAID_SOCIAL"],  # noqa: E501 (data as exported)
    ["703", "Chen", "Li", "chen@orbit.example", "2026-10-06 14:20", "marketingqualifiedlead", "2026-10-07 09:00", "", "", "", "EMAIL_MARKETING"],  # noqa: E501 (data as exported)
]  # fmt: skip


def test_hubspot_contacts_with_date_entered_headers(tmp_path):
    frame, _ = load(tmp_path, "hubspot", "contacts.csv", written([HUBSPOT_HEADER, *HUBSPOT_ROWS]), "leads")
    typed = pd.DataFrame(HUBSPOT_ROWS, columns=HUBSPOT_HEADER)
    for column, header in (("mql_at", 6), ("sql_at", 7), ("opportunity_at", 8), ("won_at", 9)):
        expected = pd.to_datetime(typed[HUBSPOT_HEADER[header]].replace("", None)).dt.normalize()
        assert frame[column].tolist() == expected.tolist(), column
    assert frame["source_channel"].tolist() == ["Paid Search", "Paid Social", "Email"]


def test_hubspot_contacts_with_single_quoted_headers_as_customers(tmp_path):
    header = [h.replace('"', "'") for h in HUBSPOT_HEADER]
    frame, loaded = load(tmp_path, "hubspot", "contacts.csv", written([header, *HUBSPOT_ROWS]), "customers")
    assert frame["customer_id"].tolist() == ["701"]
    assert frame["start_date"].tolist() == [pd.Timestamp("2026-10-14")]
    assert next(f.count for f in loaded.findings if f.code == "not_customers") == 2


MAILCHIMP_HEADER = "Title,Subject,List,Send Date,Send Weekday,Total Recipients,Successful Deliveries,Soft Bounces,Hard Bounces,Unique Opens,Open Rate,Unique Clicks,Click Rate,Unsubscribes"  # noqa: E501 (data as exported)


def test_mailchimp_bounces_from_hard_and_soft(tmp_path):
    rows = [
        ("October Newsletter", "Oct 06, 2026 10:00 am", 12450, 12301, 98, 51, 4321, 612, 23),
        ("Webinar invite", "Oct 13, 2026 02:30 pm", 30210, 29874, 201, 135, 7012, 1190, 88),
    ]
    lines = [MAILCHIMP_HEADER] + [
        f'{t},Subj,Prospects,"{d}",Tuesday,{s},{dl},{soft},{hard},{o},1%,{c},1%,{u}'
        for t, d, s, dl, soft, hard, o, c, u in rows
    ]
    frame, _ = load(tmp_path, "mailchimp", "campaigns.csv", "\n".join(lines) + "\n", "email")
    typed = pd.DataFrame(
        rows, columns=["campaign", "date", "sent", "delivered", "soft", "hard", "opens", "clicks", "unsubscribes"]
    )
    assert frame["bounces"].tolist() == (typed["soft"] + typed["hard"]).astype(float).tolist()
    assert frame["sent"].sum() == typed["sent"].sum() and frame["delivered"].sum() == typed["delivered"].sum()


def test_mailchimp_bounces_that_are_not_counts_are_an_error(tmp_path):
    content = (
        MAILCHIMP_HEADER
        + '\nBig send,Subj,All,"Oct 06, 2026 10:00 am",Tuesday,12450,12301,"1,098",51,4321,1%,612,1%,23\n'
    )
    with pytest.raises(DataError) as error:
        load(tmp_path, "mailchimp", "campaigns.csv", content, "email")
    assert "row 2" in str(error.value) and "column 'Soft Bounces'" in str(error.value)


@pytest.mark.parametrize(
    "header",
    [
        # an audience export
        "Email Address,First Name,Last "
        "Name,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,LAST_CHANGED,LEID,EUID,NOTES,TAGS",
        # a campaign's activity list ("Opened")
        "Email Address,First Name,Last Name,Opens",
    ],
    ids=["audience", "activity"],
)
def test_a_mailchimp_contact_list_is_refused_without_reading_it(tmp_path, header):
    content = header + "\n" + ",".join(["ana@nimbus.example", "Ana", "Ruiz"] + ["1"] * (header.count(",") - 2)) + "\n"
    with pytest.raises(DataError) as error:
        load(tmp_path, "mailchimp", "members.csv", content, "email")
    message = str(error.value)
    assert "contact list" in message and "row 1" in message and "Reports page" in message
    assert "ana@" not in message and "Ruiz" not in message
