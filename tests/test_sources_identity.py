"""Identity resolution (roistory.identity): one person id across sources, duplicate leads merged
by the documented rule, unmatched rows counted."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from roistory.config import config_from_dict
from roistory.identity import merge_duplicate_leads, normalise_email, resolve
from roistory.plugin_manager import build_registry
from roistory.sources import load_sources

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


def ts(*values: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values)), dtype="datetime64[ns]")


def text(*values) -> pd.Series:
    return pd.Series(list(values), dtype="str")


def leads_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": text("L1", "L2", "L3", "L4"),
            "created_at": ts("2026-10-01", "2026-10-05", "2026-10-03", "2026-10-07"),
            "email": text("ana@x.example", " ANA@X.example ", "ben@y.example", None),
            "company": text("Nimbus", "Nimbus S.L.", "Summit", "Quartz"),
            "source_channel": text("Paid Search", "Direct", "Email", None),
            "mql_at": ts("2026-10-04", "2026-10-06", None, None),
            "sql_at": ts(None, "2026-10-08", None, None),
            "won_at": ts(None, "2026-10-20", None, None),
            "lost_at": ts("2026-10-09", None, None, None),
            "amount": [500.0, 1200.0, None, None],
        }
    )


def test_normalised_email():
    assert list(normalise_email(text(" Ana.Ruiz@X.example ", "ana . ruiz@x.example", None)).fillna("-")) == [
        "ana.ruiz@x.example",
        "ana.ruiz@x.example",
        "-",
    ]


def test_duplicate_leads_are_merged_by_the_rule():
    tables, findings = resolve({"leads": leads_table()})
    leads = tables["leads"]
    assert len(leads) == 3
    ana = leads[leads["lead_id"] == "L1"].iloc[0]
    assert ana["created_at"] == pd.Timestamp("2026-10-01")  # the earliest lead survives
    assert ana["mql_at"] == pd.Timestamp("2026-10-04")  # earliest date of each stage
    assert ana["won_at"] == pd.Timestamp("2026-10-20")
    assert pd.isna(ana["lost_at"])  # one of them was won
    assert ana["amount"] == 1200.0  # the won deal's amount
    assert ana["company"] == "Nimbus S.L."  # the most recent company
    assert ana["source_channel"] == "Paid Search"  # the first lead's source
    duplicate = next(f for f in findings if f.code == "duplicate_leads")
    assert (
        duplicate.count == 1 and "a***@x.example (2 leads, companies: Nimbus / Nimbus S.L.)" in duplicate.message
    )  # masked
    assert leads["person_id"].notna().all()


def test_merge_keeps_the_input_untouched():
    original = leads_table()
    copy = original.copy()
    resolve({"leads": original})
    pd.testing.assert_frame_equal(original, copy)


def test_merge_can_be_turned_off():
    from roistory.identity import IdentityConfig

    class Config:
        identity = IdentityConfig(merge_duplicate_leads=False)

    tables, findings = resolve({"leads": leads_table()}, Config())
    assert len(tables["leads"]) == 4 and not any(f.code == "duplicate_leads" for f in findings)


def test_touchpoints_link_through_login_ids_and_emails():
    leads = leads_table().assign(lead_id=text("51234501", "L2", "L3", "L4"))
    touchpoints = pd.DataFrame(
        {
            "person_id": text("1111.1", "1111.1", "2222.2", "3333.3"),
            "timestamp": ts("2026-10-01 10:00", "2026-10-06 10:00", "2026-10-02 09:00", "2026-10-03 09:00"),
            "channel": text("Paid Search", "Email", "Paid Social", "Direct"),
            "user_id": text(None, "51234501", None, None),
            "email": text(None, None, "BEN@y.example", None),
        }
    )
    conversions = pd.DataFrame({"person_id": text("1111.1"), "timestamp": ts("2026-10-20"), "revenue": [1200.0]})
    tables, findings = resolve({"leads": leads, "touchpoints": touchpoints, "conversions": conversions})
    person = tables["leads"].set_index("lead_id")["person_id"]
    # the lead's email is its person id (no CRM person id); the analytics ids follow it
    assert person["51234501"] == "ana@x.example"
    assert list(tables["touchpoints"]["person_id"]) == ["ana@x.example", "ana@x.example", "ben@y.example", "3333.3"]
    assert tables["conversions"]["person_id"].iloc[0] == "ana@x.example"
    found = {f.code: f.count for f in findings}
    assert found["identities_linked"] == 4  # three touchpoints and one conversion
    assert found["touchpoints_without_lead"] == 1  # 3333.3
    assert found["leads_without_touchpoints"] == 1  # L4


def test_mapping_table_links_device_ids(tmp_path):
    mapping = pd.DataFrame({"user_pseudo_id": ["3333.3"], "crm_id": ["L4"]})
    touchpoints = pd.DataFrame(
        {"person_id": text("3333.3"), "timestamp": ts("2026-10-03 09:00"), "channel": text("Direct")}
    )
    tables, findings = resolve({"leads": leads_table(), "touchpoints": touchpoints}, mapping=mapping)
    assert tables["touchpoints"]["person_id"].iloc[0] == tables["leads"].set_index("lead_id").loc["L4", "person_id"]
    assert not any(f.code == "touchpoints_without_lead" for f in findings)


def test_crm_person_ids_are_kept():
    leads = pd.DataFrame(
        {
            "lead_id": text("L1", "L2"),
            "created_at": ts("2026-10-01", "2026-10-02"),
            "person_id": text("P-1", "P-2"),
            "email": text("a@x", "b@x"),
        }
    )
    touchpoints = pd.DataFrame(
        {
            "person_id": text("P-1", "P-9"),
            "timestamp": ts("2026-10-01", "2026-10-02"),
            "channel": text("Email", "Direct"),
        }
    )
    tables, _ = resolve({"leads": leads, "touchpoints": touchpoints})
    assert list(tables["leads"]["person_id"]) == ["P-1", "P-2"]
    assert list(tables["touchpoints"]["person_id"]) == ["P-1", "P-9"]


def test_acme_example_duplicates(tmp_path):
    """The example project's CRM export holds 20 leads entered twice (case and spaces differ)."""
    from roistory.config import load_config

    config = load_config(Path(__file__).parents[1] / "examples" / "acme" / "report.yaml")
    tables, _ = load_sources(config, build_registry().sources)
    resolved, findings = resolve(tables, config)
    assert len(tables["leads"]) - len(resolved["leads"]) == 20
    assert next(f for f in findings if f.code == "duplicate_leads").count == 20


def test_hubspot_and_ga4_exports_resolve_to_the_same_person(tmp_path):
    for name in ("hubspot_contacts.csv", "ga4_events_20261001_20261031.ndjson"):
        shutil.copy(FIXTURES / name, tmp_path)
    config = config_from_dict(
        {
            "report": {"period": "2026-10"},
            "sources": [
                {"name": "hubspot", "type": "hubspot", "path": "hubspot_contacts.csv", "table": "leads"},
                {
                    "name": "ga4_touch",
                    "type": "ga4",
                    "path": "ga4_events_20261001_20261031.ndjson",
                    "table": "touchpoints",
                },
                {
                    "name": "ga4_conv",
                    "type": "ga4",
                    "path": "ga4_events_20261001_20261031.ndjson",
                    "table": "conversions",
                },
            ],
        },
        path=tmp_path / "report.yaml",
    )
    tables, _ = load_sources(config, build_registry().sources)
    resolved, findings = resolve(tables, config)
    ana = resolved["leads"].set_index("lead_id").loc["51234501", "person_id"]
    assert ana == "ana.ruiz@nimbus.example"
    touches = resolved["touchpoints"]
    assert list(touches[touches["person_id"] == ana]["channel"]) == ["Paid Search", "Email", "Direct"]
    assert resolved["conversions"]["person_id"].iloc[0] == ana
    assert len(resolved["leads"]) == 5  # the contact entered twice (Ana.Ruiz@Nimbus.example) merged
    assert next(f for f in findings if f.code == "duplicate_leads").count == 1


def test_merge_function_on_its_own():
    leads = leads_table().assign(person_id=text("p1", "p1", "p2", "p3"))
    merged, finding = merge_duplicate_leads(leads)
    assert len(merged) == 3 and finding is not None and finding.severity == "warning"
    assert list(merged.columns) == list(leads.columns)


def test_merged_leads_all_lost_keep_the_last_loss_and_the_last_company_named():
    leads = pd.DataFrame(
        {
            "lead_id": text("L1", "L2", "L3", "L4"),
            "created_at": ts("2026-10-01", "2026-10-05", "2026-10-09", "2026-10-02"),
            "email": text("cy@z.example", "Cy@z.example", "cy@z.example ", "dee@z.example"),
            "company": text("Orbit", "Orbit Ltd", None, "Delta"),  # the latest lead names no company
            "won_at": ts(None, None, None, None),
            "lost_at": ts("2026-10-11", "2026-10-30", "2026-10-12", None),
            "amount": [100.0, None, 300.0, 50.0],
        }
    )
    merged, finding = merge_duplicate_leads(leads)
    assert merged["lead_id"].tolist() == ["L1", "L4"] and finding.count == 2  # kept in the input's order
    cy = merged.iloc[0]
    assert cy["lost_at"] == pd.Timestamp("2026-10-30")  # every lead lost: lost on the last loss
    assert cy["company"] == "Orbit Ltd"  # the latest company named, a blank one skipped
    assert cy["amount"] == 300.0  # none won: the largest amount
    delta = merged.iloc[1]
    assert (delta["company"], delta["amount"]) == ("Delta", 50.0) and pd.isna(delta["lost_at"])
