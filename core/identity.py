"""Identity resolution: one person id across the CRM, analytics and ad data, and one lead per person.

Identifiers that name the same person are linked:

- on a lead: its ``lead_id`` (the CRM record id), ``person_id`` and ``email``;
- on a touchpoint or conversion: its ``person_id`` with its ``user_id`` (GA4's
  login id) and ``email`` when the export has them;
- every row of the identity mapping table (``identity.mapping``: a CSV or
  Parquet file; each row's values name one person, e.g. ``user_pseudo_id,
  email`` or ``device_id, crm_id``).

Emails are compared normalised (trimmed, lower-case, inner spaces removed). The
linked identifiers of a person get one ``person_id``: the CRM's person id when a
lead has one, else the lead's email, else its record id, else the analytics id.

Duplicate leads — leads with the same normalised email, whatever their company
(leads that only share a person id stay apart: people return as new leads) —
are merged by this rule:

- the earliest created lead survives (its lead_id and created_at);
- each funnel date (mql_at, sql_at, opportunity_at, won_at) is the earliest
  among the person's leads; lost_at only stays when no lead was won and every
  lead was lost (then the latest loss);
- amount: the sum over won leads when any was won (each won deal's revenue
  counts), else the largest amount;
- company: the most recently created lead's (people change jobs);
- source_channel, source_campaign, market: the earliest lead's that has one.

The count, the rule and examples go to the data-quality findings, as do
touchpoints that match no lead and leads with no touchpoint.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from roistory.errors import ConfigError, DataError
from roistory.i18n import N_, Nn_
from roistory.quality import Finding, Joined, Phrase, known, unmatched_touchpoints
from roistory.source_settings import IdentityConfig

if TYPE_CHECKING:
    from roistory.config import Config


def identity_settings(config: Config | None) -> IdentityConfig:
    value = getattr(config, "identity", None) if config is not None else None
    if value is None:
        return IdentityConfig()
    if isinstance(value, IdentityConfig):
        return value
    if isinstance(value, dict):
        return IdentityConfig.model_validate(value)
    return IdentityConfig.model_validate(value.model_dump())


def normalise_email(values: pd.Series) -> pd.Series:
    """Trimmed, lower-case, without inner spaces; blank is missing."""
    text = values.astype("str").str.strip().str.lower().str.replace(r"\s+", "", regex=True)
    return text.mask(text == "")


def _ids(values: pd.Series) -> pd.Series:
    """Identifiers as text: emails normalised, others trimmed."""
    text = values.astype("str").str.strip()
    text = text.mask(text == "")
    is_email = text.str.contains("@", regex=False, na=False)
    if is_email.any():
        text = text.where(~is_email, normalise_email(text))
    return text


def read_mapping(path: Path) -> pd.DataFrame:
    file = str(path)
    if not path.exists():
        raise ConfigError("file not found", file=file, key="identity.mapping")
    if path.suffix.lower() == ".parquet":
        frame = pd.read_parquet(path)
    else:
        try:
            frame = pd.read_csv(
                path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig", sep=None, engine="python"
            )
        except (pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise DataError(f"cannot read the identity mapping: {exc}", file=file) from None
    if frame.shape[1] < 2:
        raise DataError("the identity mapping needs at least two columns (identifiers of the same person)", file=file)
    return frame.astype("str")


# --------------------------------------------------------------------------
# Linking
# --------------------------------------------------------------------------


def _components(left: np.ndarray, right: np.ndarray, n: int) -> np.ndarray:
    """Connected components of an undirected graph on n nodes (label = smallest node)."""
    labels = np.arange(n)
    if len(left) == 0:
        return labels
    while True:
        before = labels.copy()
        low = np.minimum(labels[left], labels[right])
        np.minimum.at(labels, left, low)
        np.minimum.at(labels, right, low)
        labels = labels[labels]  # pointer jumping
        labels = labels[labels]
        if np.array_equal(labels, before):
            return labels


def _person_ids(
    tables: dict[str, pd.DataFrame], mapping: pd.DataFrame | None
) -> tuple[tuple[pd.Index, np.ndarray], dict[str, Any]]:
    """Each identifier -> the person id of its person; plus counts for the findings."""
    pairs: list[tuple[pd.Series, pd.Series]] = []
    # rank of an identifier as the person's id: CRM person id, lead email, lead id, analytics id
    ranked: list[tuple[pd.Series, int]] = []
    leads = tables.get("leads")
    if leads is not None and len(leads):
        lead_id = _ids(leads["lead_id"])
        ranked.append((lead_id, 2))
        for column, rank in (("person_id", 0), ("email", 1)):
            if column in leads:
                values = _ids(leads[column])
                ranked.append((values, rank))
                pairs.append((lead_id, values))
    for name in ("touchpoints", "conversions"):
        frame = tables.get(name)
        if frame is None or not len(frame):
            continue
        person = _ids(frame["person_id"])
        ranked.append((person, 3))
        for column in ("user_id", "email"):
            if column in frame:
                values = _ids(frame[column])
                ranked.append((values, 3))
                pairs.append((person, values))
    linked_by_mapping = 0
    if mapping is not None and len(mapping):
        columns = [_ids(mapping[c]) for c in mapping.columns]
        for other in columns[1:]:
            pairs.append((columns[0], other))
        for values in columns:
            ranked.append((values, 4))
        linked_by_mapping = len(mapping)
    all_values = pd.concat([s for s, _ in ranked], ignore_index=True) if ranked else pd.Series(dtype="str")
    ranks = np.concatenate([np.full(len(s), r) for s, r in ranked]) if ranked else np.zeros(0, int)
    present = all_values.notna().to_numpy()
    codes, uniques = pd.factorize(all_values[present], sort=False)
    n = len(uniques)
    node_rank = np.full(n, 9)
    np.minimum.at(node_rank, codes, ranks[present])
    index = pd.Index(uniques)
    left_parts, right_parts = [], []
    for a, b in pairs:
        both = (a.notna() & b.notna() & (a != b)).to_numpy()
        if both.any():
            left_parts.append(index.get_indexer(a[both]))
            right_parts.append(index.get_indexer(b[both]))
    left = np.concatenate(left_parts) if left_parts else np.zeros(0, int)
    right = np.concatenate(right_parts) if right_parts else np.zeros(0, int)
    labels = _components(left, right, n)
    # the person's id: its best-ranked identifier (first seen among equals)
    order = np.lexsort((np.arange(n), node_rank, labels))
    if n:
        starts = np.r_[True, labels[order][1:] != labels[order][:-1]]
        best_of = np.zeros(n, dtype=np.int64)
        best_of[labels[order][starts]] = order[starts]
        person = np.asarray(uniques, dtype=object)[best_of[labels]]
    else:
        person = np.zeros(0, object)
    return (index, person), {"mapping_rows": linked_by_mapping}


def _apply(values: pd.Series, person_of: tuple[pd.Index, np.ndarray]) -> pd.Series:
    index, person = person_of
    ids = _ids(values)
    position = index.get_indexer(ids)
    found = position >= 0
    out = ids.to_numpy(dtype=object, na_value=None).copy()
    out[found] = person[position[found]]
    return pd.Series(out, index=values.index).astype("str")


# --------------------------------------------------------------------------
# Merging duplicate leads
# --------------------------------------------------------------------------

_EARLIEST = ("mql_at", "sql_at", "opportunity_at", "won_at")
_FIRST_VALUE = ("source_channel", "source_campaign", "market", "currency")


def merge_duplicate_leads(leads: pd.DataFrame) -> tuple[pd.DataFrame, Finding | None]:
    """One lead per normalised email, by the rule in the module docstring.

    Leads that only share a person id are kept apart: a person can come back as
    a new lead for a new deal, and the CRM export counts them separately.
    """
    if "email" not in leads:
        return leads, None
    key = normalise_email(leads["email"]).reset_index(drop=True)
    repeated = (key.notna() & key.duplicated(keep=False)).to_numpy()
    if not repeated.any():
        return leads, None
    frame = leads.reset_index(drop=True)
    frame["_order"] = np.arange(len(frame))
    # only the leads sharing an email are grouped (a few among thousands); the rest stay as they are
    duplicates = frame[repeated].assign(_key=key[repeated])
    duplicates = duplicates.sort_values(["created_at", "_order"], kind="stable", na_position="last")
    dup_groups = duplicates.groupby("_key", sort=False)
    merged = duplicates.drop_duplicates("_key", keep="first").set_index("_key", drop=False)  # the earliest
    for column in _EARLIEST:
        if column in frame:
            merged[column] = dup_groups[column].min()
    if "lost_at" in frame:
        any_won = dup_groups["won_at"].count() > 0 if "won_at" in frame else pd.Series(False, index=merged.index)
        all_lost = dup_groups["lost_at"].count() == dup_groups.size()
        merged["lost_at"] = dup_groups["lost_at"].max().where(all_lost & ~any_won)
    if "amount" in frame:
        if "won_at" in frame:
            won_amount = (
                duplicates.assign(_won=duplicates["amount"].where(duplicates["won_at"].notna()))
                .groupby("_key", sort=False)["_won"]
                .sum(min_count=1)
            )
        else:
            won_amount = pd.Series(np.nan, index=merged.index)
        merged["amount"] = won_amount.where(won_amount.notna(), dup_groups["amount"].max())
    if "company" in frame:
        merged["company"] = dup_groups["company"].last().astype("str")  # the latest company named
    for column in _FIRST_VALUE:
        if column in frame:
            merged[column] = dup_groups[column].first().astype("str")
    extra = len(duplicates) - len(merged)
    examples = []
    for person, group in itertools.islice(dup_groups, 3):
        label = group["email"].dropna().iloc[0] if "email" in group and group["email"].notna().any() else person
        companies = sorted({str(c) for c in group.get("company", pd.Series(dtype=str)).dropna()})
        if len(companies) > 1:
            example = Phrase(
                N_("{person} ({leads} leads, companies: {companies})"),
                companies=Joined(companies, " / "),
                person=str(label),
                leads=len(group),
            )
        else:
            example = Phrase(N_("{person} ({leads} leads)"), person=str(label), leads=len(group))
        examples.append(example)
    singles = frame[~repeated]
    result = pd.concat([singles, merged]).sort_values("_order", kind="stable").drop(columns=["_order", "_key"])
    result = result.reset_index(drop=True)
    for column in leads.columns:
        if column in result and result[column].dtype != leads[column].dtype:
            try:
                result[column] = result[column].astype(leads[column].dtype)
            except (TypeError, ValueError):
                pass
    finding = Finding.of(
        "warning",
        "duplicate_leads",
        int(extra),
        Nn_(
            "{count} duplicate lead record merged into {people} person (same email, case and spaces ignored, "
            "whatever the company); kept the earliest lead and the earliest date of each funnel stage; e.g. {examples}",
            "{count} duplicate lead records merged into {people} people (same email, case and spaces ignored, "
            "whatever the company); kept the earliest lead and the earliest date of each funnel stage; e.g. {examples}",
        ),
        people=len(merged),
        examples=Joined(examples, N_("; ")),
    )
    return result[
        [c for c in leads.columns if c in result] + [c for c in result.columns if c not in leads.columns]
    ], finding


# --------------------------------------------------------------------------


def resolve(
    tables: dict[str, pd.DataFrame], config: Config | None = None, *, mapping: pd.DataFrame | None = None
) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """Link identifiers to one person id per person, merge duplicate leads, count the unmatched.

    Returns new tables (the input is not modified) and the findings for the data-quality section.
    """
    settings = identity_settings(config)
    if mapping is None and settings.mapping and config is not None:
        mapping = read_mapping(config.resolve(settings.mapping))
    findings: list[Finding] = []
    people = {"leads", "touchpoints", "conversions"} & set(tables)
    if not people:
        return dict(tables), findings
    person_of, counts = _person_ids(tables, mapping)
    out = dict(tables)
    relinked = 0
    for name in ("touchpoints", "conversions"):
        if name in tables and len(tables[name]):
            before = tables[name]["person_id"]
            after = _apply(before, person_of)
            relinked += int((before.astype("str").str.strip() != after).sum())
            out[name] = tables[name].assign(person_id=after)
    if "leads" in tables and len(tables["leads"]):
        leads = tables["leads"]
        person = _apply(leads["lead_id"], person_of)
        out["leads"] = leads.assign(person_id=person)
        if settings.merge_duplicate_leads:
            merged, finding = merge_duplicate_leads(out["leads"])
            out["leads"] = merged
            if finding:
                findings.append(finding)
    if relinked:
        if counts["mapping_rows"]:
            msgid = Nn_(
                "{count} touchpoint or conversion was linked to a CRM person through logins, emails, "
                "{mapping} rows of the identity mapping",
                "{count} touchpoints and conversions were linked to a CRM person through logins, emails, "
                "{mapping} rows of the identity mapping",
            )
        else:
            msgid = Nn_(
                "{count} touchpoint or conversion was linked to a CRM person through logins, emails",
                "{count} touchpoints and conversions were linked to a CRM person through logins, emails",
            )
        findings.append(Finding.of("info", "identities_linked", relinked, msgid, mapping=counts["mapping_rows"]))
    findings.extend(unmatched(out))
    return out, findings


def unmatched(tables: dict[str, pd.DataFrame]) -> list[Finding]:
    """Touchpoints matching no lead, leads with no touchpoint (counted, never dropped)."""
    findings = []
    touchpoints, leads = tables.get("touchpoints"), tables.get("leads")
    if touchpoints is not None and leads is not None and len(touchpoints) and len(leads):
        finding = unmatched_touchpoints(touchpoints, leads)
        if finding:
            findings.append(finding)
        alone = ~known(leads["person_id"], touchpoints["person_id"])
        if alone.any():
            findings.append(
                Finding.of(
                    "info",
                    "leads_without_touchpoints",
                    int(alone.sum()),
                    Nn_(
                        "{count} of {leads} leads has no touchpoint (offline or untracked sources); "
                        "it counts in the funnel but not in attribution",
                        "{count} of {leads} leads have no touchpoint (offline or untracked sources); "
                        "they count in the funnel but not in attribution",
                    ),
                    leads=len(leads),
                )
            )
    return findings
