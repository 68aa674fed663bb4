"""Source type ``ga4_report``: a report downloaded from the GA4 UI → ``web``.

Marketing teams rarely have the BigQuery export the ``ga4`` type reads; they open
Reports → Acquisition → Traffic acquisition and use Share this report → Download
File → CSV. That file is read as GA4 writes it:

- a comment block above each table ("# ----", "# Traffic acquisition: Session
  primary channel group (Default Channel Group)", "# Account: …", "# Property: …",
  "# Start date: 20250101", "# End date: 20250131");
- possibly several tables, each after a blank line and its own comment block: the
  first whose header has a session channel column is read, the others are counted;
- headers in the UI language (GA4_REPORT_LANGUAGES: en, es, fr, de, ja, id, zh_Hant,
  each with where it was found);
- a "Grand total" row, dropped and reconciled with the rows like every export's
  totals (users excepted: GA4 counts a person once in the total, so the channels'
  users add up to more);
- numbers read by the core's shared, locale-aware parser (the header language is the
  hint for a value such as "1.234").

Columns: the session channel group → channel, Date (20250131) → date, Sessions,
users (Total users / Users / Active users), New users, Key events (Conversions
before March 2024) → conversions, Views → pageviews. Without a Date column every row
covers the file's Start date to End date, and the core spreads it evenly over those
days (as for Google Ads reports without a Day column). A file with no date range,
no channel column or no recognisable table is an error that says what to download.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import TYPE_CHECKING

import pandas as pd

from roistory.api import (
    CORE_OPTIONS,
    HEADERS_ATTR,
    LOCALE_ATTR,
    N_,
    TITLE_ATTR,
    DataError,
    ExportFormat,
    Finding,
    Nn_,
    SourceType,
    add_findings,
    check_options,
    hookimpl,
)

if TYPE_CHECKING:
    from pathlib import Path

    from roistory.api import Config, SourceConfig

GA4_REPORT_OPTIONS = {"encoding"} | CORE_OPTIONS

# GA4 report downloads: headers in the property user's UI language. Where each was found
# (confidence as in docs/sources.md: doc = Google's own reference in that language, seen =
# several public projects reading real downloads agree, one = one project's parser or
# fixture, ui = the UI's word in walkthroughs, not yet seen as a downloaded header).
# Languages not listed (nl, it, pt, zh_Hans …) were searched for and not found: map their
# headers with columns: {…}.
GA4_REPORT_LANGUAGES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {  # seen (downloads read by several projects, the statso.io sample, test fixtures)
        "channel": (
            "Session primary channel group (Default Channel Group)",
            "Session default channel group",  # its earlier name: seen
            "Session primary channel group",
        ),
        "date": ("Date", "Date + hour (YYYYMMDDHH)"),
        "sessions": ("Sessions",),
        "users": ("Total users", "Users", "Active users"),
        "new_users": ("New users",),
        "conversions": ("Key events", "Conversions"),  # "Conversions" until March 2024
        "pageviews": ("Views",),  # one
    },
    "es": {  # seen (a project's catalogue of real es downloads, several scripts reading them)
        "channel": (
            "Grupo de canales principal de la sesión (Grupo de canales predeterminado)",
            "Grupo de canales principal de la sesión",
            "Grupo de canales predeterminado de la sesión",
        ),
        "date": ("Fecha",),
        "sessions": ("Sesiones",),
        "users": ("Total de usuarios", "Usuarios", "Usuarios activos"),
        "new_users": ("Usuarios nuevos",),
        "conversions": ("Eventos clave",),
        "pageviews": ("Vistas",),
    },
    "fr": {  # one (a parser's fixture of a fr download, comment block "# Date de début : …")
        "channel": ("Groupe de canaux par défaut de la session",),
        "date": ("Date",),
        "sessions": ("Sessions",),
        "users": ("Utilisateurs actifs",),
        "conversions": ("Événements clés",),
    },
    "ja": {  # channel and 日付: doc (Google's ja dimension reference, quoted by a project) + seen
        "channel": (
            "セッションのデフォルト チャネル グループ",
            "セッションのメインのチャネル グループ（デフォルト チャネル グループ）",  # one
        ),
        "date": ("日付",),
        "sessions": ("セッション", "セッション数"),  # one each (an alias list, a fixture)
        "users": ("総ユーザー数", "ユーザー", "アクティブ ユーザー"),  # one
        "new_users": ("新規ユーザー数",),  # one
        "conversions": ("キーイベント", "コンバージョン"),  # one
        "pageviews": ("表示回数",),  # one
    },
    "de": {  # channel (en dash) and Sitzungen: seen (a parser's fixture of a de download, 1.200 and
        # ";" in it, and another project's UI text); the rest: one (a project's table of the de UI)
        "channel": (
            "Sitzung – primäre Channelgruppe (Standard-Channelgruppe)",
            "Sitzung - primäre Channelgruppe (Standard-Channelgruppe)",  # one (an alias list)
            "Sitzung – primäre Channelgruppe",
            "Sitzung – Standardchannelgruppe",
        ),
        "date": ("Datum",),
        "sessions": ("Sitzungen",),
        "users": ("Nutzer insgesamt", "Nutzer", "Aktive Nutzer"),
        "new_users": ("Neue Nutzer",),
        "conversions": ("Schlüsselereignisse",),
        "pageviews": ("Aufrufe",),
    },
    "id": {  # one (a parser of id downloads: "# Tanggal mulai:", a header starting "Grup saluran
        # utama sesi", then "Sesi")
        "channel": ("Grup saluran utama sesi (*)",),
        "sessions": ("Sesi",),
    },
    "zh_Hant": {  # one (a script reading zh-TW downloads)
        "channel": ("工作階段預設管道群組",),
        "sessions": ("工作階段", "工作階段數"),
        "users": ("活躍使用者", "使用者"),
        "conversions": ("重要事件", "轉換"),
    },
}
GA4_REPORT = ExportFormat.in_languages("GA4 report", GA4_REPORT_LANGUAGES, required=("channel", "sessions"))

# "# Start date: 20250101" / "# Date de début : 20250101" / "# 開始日: 20250101"
_LABELLED_DAY = re.compile(r"^#\s*([^:：]*?)\s*[:：]\s*(\d{8})\s*$")
# Explorations write the range on one line: "# 20251001-20260228"
_DAY_RANGE = re.compile(r"^#\s*(\d{8})\s*[-–]\s*(\d{8})\s*$")
# The labels a GA4 total row carries in its first cell ("Grand total", fr "Total"; the core
# drops every total row: this only spares its users from the reconciliation)
_TOTAL_LABEL = re.compile(r"(?i)^\s*(?:grand\s+)?totals?\b|^\s*(?:合計|總計|总计)")


def read_ga4_report(source: SourceConfig, config: Config) -> pd.DataFrame:
    path = config.resolve(source.path or "")
    file = str(path)
    options = check_options(source, GA4_REPORT_OPTIONS, "ga4_report", file)
    if source.table != "web":
        raise DataError(f"a GA4 report download feeds the web table, not '{source.table}'", file=file)
    lines = _text(path, options.get("encoding")).splitlines()
    table, others = _pick_table(lines, source, file)
    comments, header_line, rows = table
    frame = _frame(lines, header_line, rows, source, file)
    frame.attrs[TITLE_ATTR] = comments
    if "date" in frame.columns:
        # GA4 writes its Date dimension as YYYYMMDD (Date + hour as YYYYMMDDHH); the cells as
        # exported stay in the frame unread, so two hours of a day are never taken for a
        # repeated row
        frame[frame.attrs[HEADERS_ATTR].get("date", "date") + " (as exported)"] = frame["date"]
        frame["date"] = frame["date"].str.replace(r"^\s*(\d{4})(\d{2})(\d{2})(\d{2})?\s*$", r"\1-\2-\3", regex=True)
    elif "date" not in source.values and "date" not in source.columns.values():
        start, end = _date_range(comments, file, header_line)
        frame["date"] = start.isoformat()
        if "end_date" not in source.values:
            frame["end_date"] = end.isoformat()
    if "users" in frame.columns:
        _spare_total_users(frame, source)
    if others:
        add_findings(
            frame,
            Finding.of(
                "info",
                "ga4_tables_skipped",
                others,
                Nn_(
                    "source '{source}': {file} holds {count} more table besides the channel table (e.g. a chart's "
                    "data); only the channel table was read",
                    "source '{source}': {file} holds {count} more tables besides the channel table (e.g. a chart's "
                    "data); only the channel table was read",
                ),
                source=source.name,
                file=path.name,
            ),
        )
    return frame


def _spare_total_users(frame: pd.DataFrame, source: SourceConfig) -> None:
    """GA4's total counts each user once; the rows' users add up to more (a person who came
    through two channels is in both), rightly: the total's users are not reconciled, and a
    note gives GA4's figure beside the summed users metric."""
    label = frame.iloc[:, 0].astype("str")
    totals = label.str.match(_TOTAL_LABEL).fillna(False).to_numpy()
    shown = frame.loc[totals, "users"].dropna()
    frame.loc[totals, "users"] = None
    if len(shown):
        add_findings(
            frame,
            Finding.of(
                "info",
                "ga4_total_users",
                1,
                N_(
                    "source '{source}': GA4's own total counts {users} users, each person once; the users metric "
                    "adds up the rows' users, so a person who came through two channels counts in both"
                ),
                source=source.name,
                users=shown.iloc[0],
            ),
        )


def _text(path: Path, encoding: str | None) -> str:
    data = path.read_bytes()
    if encoding:
        try:
            return data.decode(str(encoding))
        except (UnicodeDecodeError, LookupError) as exc:
            raise DataError(f"cannot be decoded as {encoding} ({type(exc).__name__})", file=str(path)) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(
            "is not UTF-8 text as GA4 writes it (re-saved by a spreadsheet?): set options.encoding, e.g. cp1252",
            file=str(path),
        ) from None


def _is_comment(line: str) -> bool:
    return line.lstrip("\ufeff").lstrip().startswith("#")


def _is_blank(line: str) -> bool:
    return not line.strip().strip(",;\t\"'").strip()


def _tables(lines: list[str]) -> list[tuple[list[str], int, list[int]]]:
    """Each table of the file: its comment lines, its header's line index, its rows' line indexes."""
    tables: list[tuple[list[str], int, list[int]]] = []
    comments: list[str] = []
    current: tuple[list[str], int, list[int]] | None = None
    for i, line in enumerate(lines):
        if _is_comment(line):
            if current is not None:
                current, comments = None, []
            comments.append(line.lstrip("\ufeff").strip())
        elif _is_blank(line):
            current = None
        elif current is None:
            current = (comments, i, [])
            tables.append(current)
            comments = []
        else:
            current[2].append(i)
    return tables


def _delimiter(header: str) -> str:
    """The delimiter that splits the header into most fields (GA4 writes ',', a spreadsheet
    re-save ';' or a tab)."""
    return max((",", ";", "\t"), key=lambda d: len(next(csv.reader([header], delimiter=d))))


def _cells(line: str, delimiter: str) -> list[str]:
    return [cell.strip() for cell in next(csv.reader([line], delimiter=delimiter), [])]


def _pick_table(lines: list[str], source: SourceConfig, file: str) -> tuple[tuple[list[str], int, list[int]], int]:
    """The first table with a session channel column (or the one the report maps), and how many
    other tables the file holds."""
    tables = _tables(lines)
    seen: list[tuple[int, list[str], dict[str, str]]] = []
    for table in tables:
        header = lines[table[1]].lstrip("\ufeff")
        headers = _cells(header, _delimiter(header))
        mapping = _mapping(headers, source)
        targets = set(mapping.values()) | set(source.columns.values()) | set(source.values)
        if {"channel", "sessions"} <= targets:
            return table, len(tables) - 1
        seen.append((table[1] + 1, headers, mapping))
    if not seen:
        raise DataError("holds no table (only comment lines?): download the report again as CSV", file=file)
    with_sessions = next((s for s in seen if "sessions" in s[2].values()), None)
    if with_sessions is not None:
        line, headers, _ = with_sessions
        expected = GA4_REPORT.aliases["channel"][0]
        raise DataError(
            f"has no session channel column (its dimension is '{headers[0]}'): download Reports → Acquisition → "
            f"Traffic acquisition with the '{expected}' dimension, or set values: {{channel: …}}",
            file=file,
            row=line,
            column=expected,
        )
    line, headers, _ = seen[0]
    raise DataError(
        f"is not a GA4 report download as expected: no 'Sessions' column with a session channel group "
        f"(header: {', '.join(headers[:4])}{', …' if len(headers) > 4 else ''}); map its columns with columns: {{…}}",
        file=file,
        row=line,
        column="Sessions",
    )


def _mapping(headers: list[str], source: SourceConfig) -> dict[str, str]:
    """header -> canonical column, for the headers the report does not map itself."""
    return {
        h: t
        for h, t in GA4_REPORT.match(headers).items()
        if h not in source.columns and t not in source.columns.values()
    }


def _frame(lines: list[str], header_line: int, rows: list[int], source: SourceConfig, file: str) -> pd.DataFrame:
    """The table as text cells (the core parses numbers and dates), indexed by line number."""
    header = lines[header_line].lstrip("\ufeff")
    delimiter = _delimiter(header)
    headers = _unique(_cells(header, delimiter))
    body = list(csv.reader(io.StringIO("\n".join(lines[i] for i in rows)), delimiter=delimiter))
    if len(body) != len(rows):  # a quoted value across lines: GA4 writes none, a hand edit may
        raise DataError("has a quoted value spanning lines; save it again as CSV from GA4", file=file, row=rows[0] + 1)
    for i, cells in zip(rows, body, strict=True):
        if len(cells) != len(headers):
            raise DataError(f"has {len(cells)} fields where the header has {len(headers)}", file=file, row=i + 1)
    frame = pd.DataFrame(body, columns=headers, index=pd.Index([i + 1 for i in rows]), dtype=object)
    frame = frame.apply(lambda column: column.str.strip())
    frame = frame.mask(frame == "")  # an empty cell is a missing value
    mapping = _mapping(headers, source)
    frame = frame.rename(columns=mapping)
    frame.attrs[HEADERS_ATTR] = {column: header for header, column in mapping.items()}
    language = GA4_REPORT.language(headers)
    if language:
        frame.attrs[LOCALE_ATTR] = language
    return frame


def _unique(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in headers:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}.{seen[name] - 1}")
    return out


def _date_range(comments: list[str], file: str, header_line: int) -> tuple[dt.date, dt.date]:
    """The Start date / End date of the table's comment block (labelled in the UI language,
    always start first), or an Explorations range line "# 20251001-20260228"."""
    days = [(m.group(1), m.group(2)) for m in map(_LABELLED_DAY.match, comments) if m]
    ranges = [(m.group(1), m.group(2)) for m in map(_DAY_RANGE.match, comments) if m]
    hint = (
        "download the report with Date as a secondary dimension, or set values: {date: YYYY-MM-DD, "
        "end_date: YYYY-MM-DD} for the days it covers"
    )
    if len(days) == 2 and not ranges:
        texts = (days[0][1], days[1][1])
    elif len(ranges) == 1 and not days:
        texts = ranges[0]
    elif len(days) > 2 or len(ranges) > 1:
        shown = ", ".join(f"{label or '#'} {day}" for label, day in days) or ", ".join("-".join(r) for r in ranges)
        raise DataError(
            f"covers several date ranges ({shown}; a comparison?): {hint}",
            file=file,
            row=header_line + 1,
            column="Date",
        )
    else:
        raise DataError(
            f"has no Date column and no Start date / End date lines above its header: {hint}",
            file=file,
            row=header_line + 1,
            column="Date",
        )
    try:
        start, end = (dt.datetime.strptime(t, "%Y%m%d").date() for t in texts)
    except ValueError:
        raise DataError(
            f"has a date range that is not a date ({texts[0]} to {texts[1]}): {hint}", file=file, column="Date"
        ) from None
    if end < start:
        raise DataError(f"ends on {end} before it starts ({start}): {hint}", file=file, column="Date")
    return start, end


@hookimpl
def register_data_sources(register):
    register(
        SourceType(
            "ga4_report",
            read_ga4_report,
            "GA4 report downloaded from the UI (Traffic acquisition → Download File → CSV) as web "
            "(sessions per channel; a report without a Date column is spread over its date range).",
            needs_path=True,
        )
    )
