"""Source type ``ga4``: the Google Analytics 4 BigQuery export → touchpoints, conversions, web.

The file is the ``events_*`` table as BigQuery exports it, as Parquet or
newline-delimited JSON (``bq extract --destination_format
NEWLINE_DELIMITED_JSON``; gzip-compressed files work too): one row per event
with ``event_date`` ("20261005"), ``event_timestamp`` (microseconds, UTC),
``event_name``, ``event_params`` (repeated key/value records), ``user_id``,
``user_pseudo_id``, ``traffic_source`` (the user's first source),
``collected_traffic_source`` and ``session_traffic_source_last_click`` (the
session's source), ``ecommerce`` (``purchase_revenue``, ``transaction_id``) and
``event_value_in_usd``. Name the same file in up to three sources:

- ``table: touchpoints``: one touch per session (``session_start``, else a
  session's first event): person_id = user_pseudo_id, user_id = user_id (for
  identity resolution), timestamp, channel = GA4's default channel group from
  the session's source/medium (gclid → Paid Search), campaign, interaction
  "visit".
- ``table: conversions``: the conversion events (``options.conversion_events``,
  default ``[purchase]``): revenue = ecommerce.purchase_revenue_in_usd, else
  event_value_in_usd, in USD (converted by ``fx`` when the report is not in
  USD); deal_id = ecommerce.transaction_id.
- ``table: web``: per day (event_date) and channel: sessions, users, new_users
  (first_visit events), conversions, pageviews (page_view events).

A report downloaded from the GA4 UI (CSV) is the ``ga4_report`` type
(plugins/ga4_report_source.py); given here, it is refused with that advice.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from roistory.api import CORE_OPTIONS, DataError, SourceType, check_options, hookimpl

if TYPE_CHECKING:
    from roistory.api import Config, SourceConfig

GA4_OPTIONS = {"conversion_events", "revenue"} | CORE_OPTIONS

SEARCH_ENGINES = {
    "google",
    "bing",
    "yahoo",
    "duckduckgo",
    "baidu",
    "yandex",
    "ecosia",
    "naver",
    "seznam",
    "qwant",
    "startpage",
    "search.brave.com",
    "brave",
}
SOCIAL_SITES = {
    "facebook", "fb", "m.facebook.com", "l.facebook.com", "instagram", "ig", "linkedin", "lnkd.in", "twitter", "x",
    "t.co",
    "tiktok", "reddit", "pinterest", "youtube", "snapchat", "quora", "threads", "bsky", "mastodon", "whatsapp",
}  # fmt: skip
VIDEO_SITES = {"youtube", "vimeo", "twitch", "dailymotion"}


def default_channel(source: str | None, medium: str | None, gclid: bool = False) -> str:
    """GA4's default channel group for a source/medium (simplified to the common rules)."""
    source = source.strip().casefold() if isinstance(source, str) else ""
    medium = medium.strip().casefold() if isinstance(medium, str) else ""
    site = (
        source.removeprefix("www.").split(".")[0] if source and "." in source and source not in SOCIAL_SITES else source
    )
    if gclid and not medium:
        return "Paid Search"
    if source in ("(direct)", "") and medium in ("(none)", "(not set)", ""):
        return "Direct"
    paid = (
        medium in ("cpc", "ppc", "paid", "paidsearch", "paid_search", "retargeting")
        or medium.startswith("paid")
        or medium.endswith("cpc")
    )
    if medium in ("display", "banner", "expandable", "interstitial", "cpm"):
        return "Display"
    if paid:
        if site in SEARCH_ENGINES:
            return "Paid Search"
        if site in SOCIAL_SITES or "social" in medium:
            return "Paid Social"
        if site in VIDEO_SITES:
            return "Paid Video"
        return "Paid Other"
    if medium in ("email", "e-mail", "e_mail", "e mail") or site in ("email", "newsletter", "mailchimp"):
        return "Email"
    if medium == "affiliate":
        return "Affiliates"
    if medium in ("organic",) or (site in SEARCH_ENGINES and medium in ("referral", "")):
        return "Organic Search"
    if site in SOCIAL_SITES or medium in (
        "social",
        "social-network",
        "social-media",
        "sm",
        "social network",
        "social media",
    ):
        return "Organic Social"
    if site in VIDEO_SITES or medium == "video":
        return "Organic Video"
    if medium == "referral":
        return "Referral"
    if medium in ("sms",):
        return "SMS"
    return "Unassigned"


# --------------------------------------------------------------------------
# Reading the export
# --------------------------------------------------------------------------


def _read_events(path: Path) -> pa.Table:
    return _read_cached(str(path), path.stat().st_mtime_ns, path.stat().st_size)


@lru_cache(maxsize=4)
def _read_cached(file: str, _mtime: int, _size: int) -> pa.Table:
    path = Path(file)
    with path.open("rb") as handle:
        head = handle.read(4)
    try:
        if head == b"PAR1":
            import pyarrow.parquet as pq

            return pq.read_table(path)
        import pyarrow.json as pj

        if head.startswith(b"\x1f\x8b"):
            with gzip.open(path, "rb") as handle:
                return pj.read_json(pa.BufferReader(handle.read()))
        return pj.read_json(path)
    except (pa.ArrowInvalid, OSError, EOFError) as exc:
        if head.lstrip(b"\xef\xbb\xbf").startswith(b"#") or path.suffix.lower() in (".csv", ".tsv"):
            # a report downloaded from the GA4 UI, not the BigQuery export
            raise DataError(
                "is a report downloaded from the GA4 UI (CSV), not the BigQuery export this type reads: "
                "use type: ga4_report (table: web)",
                file=file,
            ) from None
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot read as a GA4 BigQuery export (Parquet or NDJSON): {message}", file=file) from None


def _field(table: pa.Table, *path: str) -> pa.ChunkedArray | None:
    """A nested field (``collected_traffic_source.manual_source``), None when absent."""
    if path[0] not in table.column_names:
        return None
    array = table.column(path[0])
    for name in path[1:]:
        if not pa.types.is_struct(array.type) or array.type.get_field_index(name) < 0:
            return None
        array = pc.struct_field(array, name)
    return array


def _param(table: pa.Table, key: str) -> pa.ChunkedArray | None:
    """The value of event_params[key] per event, as text (string_value, else int/double value)."""
    params = _field(table, "event_params")
    if params is None or len(table) == 0:
        return None
    flat = pc.list_flatten(params)
    parents = pc.list_parent_indices(params)
    keys = pc.struct_field(flat, "key")
    value = pc.struct_field(flat, "value")
    parts = []
    for name in ("string_value", "int_value", "double_value", "float_value"):
        if value.type.get_field_index(name) >= 0:
            parts.append(pc.cast(pc.struct_field(value, name), pa.string()))
    if not parts:
        return None
    text = pc.coalesce(*parts) if len(parts) > 1 else parts[0]
    hit = pc.equal(keys, key)
    out = np.full(len(table), None, dtype=object)
    rows = pc.filter(parents, hit).to_numpy(zero_copy_only=False)
    out[rows] = pc.filter(text, hit).to_numpy(zero_copy_only=False)
    return pa.chunked_array([pa.array(out, pa.string())])


def _text(array: pa.ChunkedArray | None, n: int) -> np.ndarray:
    if array is None:
        return np.full(n, None, dtype=object)
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = pc.cast(array, pa.string())
    values = array.to_numpy(zero_copy_only=False)
    return np.where(pd.isna(values), None, values) if values.dtype == object else values.astype(object)


def _first(*candidates: np.ndarray) -> np.ndarray:
    out = candidates[0].copy()
    for other in candidates[1:]:
        empty = pd.isna(out) | (out == "")
        out[empty] = other[empty]
    return out


def _events(source: SourceConfig, config: Config) -> tuple[pd.DataFrame, Path]:
    path = config.resolve(source.path or "")
    options = check_options(source, GA4_OPTIONS, "ga4", str(path))
    table = _read_events(path)
    missing = [c for c in ("event_timestamp", "event_name", "user_pseudo_id") if c not in table.column_names]
    if missing:
        raise DataError(f"is not a GA4 BigQuery export: no '{missing[0]}' column", file=str(path), column=missing[0])
    n = len(table)
    timestamps = table.column("event_timestamp")
    if not pa.types.is_integer(timestamps.type):
        timestamps = pc.cast(timestamps, pa.int64())
    micros = timestamps.to_numpy(zero_copy_only=False)
    events = pd.DataFrame(
        {
            "event_name": _text(table.column("event_name"), n),
            "event_date": _text(_field(table, "event_date"), n),
            "user_pseudo_id": _text(table.column("user_pseudo_id"), n),
            "user_id": _text(_field(table, "user_id"), n),
            "micros": micros,
            "session_id": _text(_param(table, "ga_session_id"), n),
        }
    )
    # the session's source: last-click record, else collected_traffic_source, else the event's params
    last_click = ("session_traffic_source_last_click", "manual_campaign")
    events["source"] = _first(
        _text(_field(table, *last_click, "source"), n),
        _text(_field(table, "collected_traffic_source", "manual_source"), n),
        _text(_param(table, "source"), n),
    )
    events["medium"] = _first(
        _text(_field(table, *last_click, "medium"), n),
        _text(_field(table, "collected_traffic_source", "manual_medium"), n),
        _text(_param(table, "medium"), n),
    )
    events["campaign"] = _first(
        _text(_field(table, *last_click, "campaign_name"), n),
        _text(_field(table, "session_traffic_source_last_click", "google_ads_campaign", "campaign_name"), n),
        _text(_field(table, "collected_traffic_source", "manual_campaign_name"), n),
        _text(_param(table, "campaign"), n),
    )
    gclid = _text(_field(table, "collected_traffic_source", "gclid"), n)
    events["gclid"] = ~pd.isna(gclid)
    revenue_field = str(options.get("revenue", "purchase_revenue_in_usd"))
    events["revenue"] = pd.to_numeric(
        pd.Series(
            _first(
                _text(_field(table, "ecommerce", revenue_field), n),
                _text(_field(table, "event_value_in_usd"), n),
            )
        ),
        errors="coerce",
    ).to_numpy()
    events["transaction_id"] = _text(_field(table, "ecommerce", "transaction_id"), n)
    events.index = pd.RangeIndex(1, n + 1)
    bad = events["micros"].isna() | events["user_pseudo_id"].isna()
    if bad.any():
        row = int(bad.to_numpy().argmax()) + 1
        column = "event_timestamp" if pd.isna(events.loc[row, "micros"]) else "user_pseudo_id"
        raise DataError("value is missing", file=str(path), row=row, column=column)
    return events, path


def _sessions(events: pd.DataFrame) -> pd.DataFrame:
    """One row per session (user_pseudo_id + ga_session_id): its first event's time, the first
    source/medium/campaign any of its events carries, and the channel of that source."""
    ordered = events.sort_values("micros", kind="stable")
    has_id = ordered["session_id"].notna().to_numpy()
    grouped = ordered[has_id].groupby(["user_pseudo_id", "session_id"], sort=False)
    sessions = grouped.agg(
        micros=("micros", "first"),
        user_id=("user_id", "first"),
        source=("source", "first"),
        medium=("medium", "first"),
        campaign=("campaign", "first"),
        gclid=("gclid", "max"),
        event_date=("event_date", "first"),
    ).reset_index()
    # events without a ga_session_id: each session_start is a session of its own
    lone = ordered[~has_id & (ordered["event_name"] == "session_start").to_numpy()]
    if len(lone):
        sessions = pd.concat([sessions, lone[list(sessions.columns)]], ignore_index=True)
    sessions = sessions.sort_values("micros", kind="stable").reset_index(drop=True)
    sessions["channel"] = [
        default_channel(s, m, bool(g))
        for s, m, g in zip(sessions["source"], sessions["medium"], sessions["gclid"], strict=True)
    ]
    sessions.index = pd.RangeIndex(1, len(sessions) + 1)
    return sessions


def _timestamps(micros: pd.Series) -> pd.Series:
    return pd.Series(pd.to_datetime(micros.astype("int64"), unit="us", utc=True), index=micros.index)


def read_ga4(source: SourceConfig, config: Config) -> pd.DataFrame:
    events, path = _events(source, config)
    table = source.table
    if table == "touchpoints":
        sessions = _sessions(events)
        return pd.DataFrame(
            {
                "person_id": sessions["user_pseudo_id"],
                "user_id": sessions["user_id"],
                "timestamp": _timestamps(sessions["micros"]),
                "channel": sessions["channel"],
                "campaign": sessions["campaign"].where(
                    ~sessions["campaign"].isin(["(direct)", "(not set)", "(organic)", "(referral)"])
                ),
                "interaction": "visit",
            },
            index=sessions.index,
        )
    if table == "conversions":
        wanted = source.options.get("conversion_events", ["purchase"])
        wanted = [wanted] if isinstance(wanted, str) else list(wanted)
        conversions = events[events["event_name"].isin(wanted).to_numpy()]
        return pd.DataFrame(
            {
                "person_id": conversions["user_pseudo_id"],
                "user_id": conversions["user_id"],
                "timestamp": _timestamps(conversions["micros"]),
                "revenue": conversions["revenue"].fillna(0.0),
                "currency": "USD",
                "conversion_type": conversions["event_name"],
                "deal_id": conversions["transaction_id"],
            },
            index=conversions.index,
        )
    if table == "web":
        return _web(events, source)
    raise DataError(f"a GA4 export feeds touchpoints, conversions or web, not '{table}'", file=str(path))


def _web(events: pd.DataFrame, source: SourceConfig) -> pd.DataFrame:
    """Per day and channel: sessions, users, new users, conversions, page views."""
    sessions = _sessions(events)
    sessions["day"] = _day(sessions)
    channel_of = dict(zip(_session_keys(sessions), sessions["channel"], strict=True))
    keyed = events.assign(day=_day(events), channel=_session_keys(events).map(channel_of).fillna("Unassigned"))
    wanted = source.options.get("conversion_events", ["purchase"])
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    grouped = sessions.groupby(["day", "channel"], sort=True)
    web = pd.DataFrame({"sessions": grouped.size(), "users": grouped["user_pseudo_id"].nunique()})

    def count(mask: Any) -> pd.Series:
        return keyed[mask].groupby(["day", "channel"]).size()

    web["new_users"] = count((keyed["event_name"] == "first_visit").to_numpy())
    web["conversions"] = count(keyed["event_name"].isin(wanted).to_numpy())
    web["pageviews"] = count((keyed["event_name"] == "page_view").to_numpy())
    web = web.fillna(0).reset_index().rename(columns={"day": "date"})
    web.index = pd.RangeIndex(1, len(web) + 1)
    return web


def _day(frame: pd.DataFrame) -> pd.Series:
    """event_date (the property's time zone, YYYYMMDD) as ISO text; else the UTC day."""
    text = frame["event_date"]
    iso = text.astype("str").str.replace(r"^(\d{4})(\d{2})(\d{2})$", r"\1-\2-\3", regex=True)
    fallback = _timestamps(frame["micros"]).dt.strftime("%Y-%m-%d")
    return iso.where(text.notna(), fallback)


def _session_keys(frame: pd.DataFrame) -> pd.Series:
    return frame["user_pseudo_id"].astype(str) + "\x1f" + frame["session_id"].fillna("").astype(str)


@hookimpl
def register_data_sources(register):
    register(
        SourceType(
            "ga4",
            read_ga4,
            "GA4 BigQuery export (events_*, Parquet or NDJSON) as touchpoints (sessions), "
            "conversions (purchase events) or web (daily sessions per channel).",
            needs_path=True,
        )
    )
