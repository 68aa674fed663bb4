"""The journey rules, written once as SQL and transpiled per dialect with sqlglot.

Every SQL engine (DuckDB, Spark, PostgreSQL pushdown) runs the text below; only
the two input relations differ per backend:

- ``roistory_touches(person_id, t_us, segment, channel, seq)``: one row per touch,
  ``t_us`` microseconds since the epoch, ``seq`` the row's place in the input
  (ties at equal timestamps keep input order, like the in-memory engine);
- ``roistory_conversions(person_id, t_us, revenue, seq, same_row)``: one row per
  conversion; ``same_row = 1`` for session-format conversions (the converting
  row is itself a touch and sorts after it), 0 for a conversions table (at an
  equal timestamp the conversion sorts *before* the touch: touches must be
  strictly earlier).

The rules are those of :func:`roistory.attribution.build_journeys`:

1. a person's events sorted by (time, kind, input order), kind 0 = conversion
   from a table, 1 = touch, 2 = session conversion;
2. a conversion closes the journey; a gap *longer* than the dormancy starts a new
   one (re-engagement), unless the previous event was a conversion;
3. a converting journey keeps the touches at or after ``conversion − lookback``
   (inclusive); a journey after the last conversion keeps all its touches;
4. a converting journey left with no touch is an orphan (reported, not credited).

The path table, the heuristic credit sums and the journey statistics come back
in one result set (column ``part`` tells which). The journeys are scanned once
for the path table and statistics (orphan conversions are the group with no
path); the heuristic sums need a second pass over the kept touches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

US_PER_DAY = 86_400 * 10**6
US_PER_HOUR = 3_600 * 10**6
NOT_SET = "(not set)"
# the rule name each SQL-computed heuristic answers to (AttributionModel.engine_rule)
HEURISTIC_RULES = ("first_touch", "last_touch", "linear", "time_decay", "position_based", "last_non_direct")

_JOURNEYS = """
events AS (
  SELECT person_id, t_us, 1 AS kind, seq, {code} AS code{channel_code}, CAST(0 AS DOUBLE) AS revenue, 0 AS is_conv
  FROM roistory_touches
  UNION ALL
  SELECT person_id, t_us, CASE WHEN same_row = 1 THEN 2 ELSE 0 END AS kind, seq, -1 AS code{channel_none},
         CAST(COALESCE(revenue, 0) AS DOUBLE) AS revenue, 1 AS is_conv
  FROM roistory_conversions
),
ordered AS (
  SELECT *,
    ROW_NUMBER() OVER (PARTITION BY person_id ORDER BY t_us, kind, seq) AS ord,
    LAG(t_us) OVER (PARTITION BY person_id ORDER BY t_us, kind, seq) AS prev_us,
    LAG(is_conv) OVER (PARTITION BY person_id ORDER BY t_us, kind, seq) AS prev_conv
  FROM events
),
flagged AS (
  SELECT *,
    CASE WHEN prev_us IS NOT NULL AND prev_conv = 0 AND t_us - prev_us > {dormancy_us} THEN 1 ELSE 0 END AS dormant,
    CASE WHEN prev_us IS NULL OR prev_conv = 1 OR t_us - prev_us > {dormancy_us} THEN 1 ELSE 0 END AS starts
  FROM ordered
),
numbered AS (
  SELECT *, SUM(starts) OVER (
    PARTITION BY person_id ORDER BY ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
  ) AS journey_no
  FROM flagged
),
marked AS (
  SELECT *,
    CASE WHEN is_conv = 0 AND (conv_us IS NULL OR t_us >= conv_us - {lookback_us}) THEN 1 ELSE 0 END AS kept
  FROM (
    SELECT *,
      MAX(CASE WHEN is_conv = 1 THEN t_us END) OVER (PARTITION BY person_id, journey_no) AS conv_us,
      SUM(revenue) OVER (PARTITION BY person_id, journey_no) AS journey_revenue
    FROM numbered
  ) AS with_conversion
),
journeys AS (
  SELECT person_id, journey_no, MAX(is_conv) AS converts, MAX(conv_us) AS conv_us, MAX(journey_revenue) AS revenue,
    STRING_AGG(CASE WHEN kept = 1 THEN CAST(code AS VARCHAR) END, ' ' ORDER BY ord) AS path,
    SUM(kept) AS kept_touches,
    SUM(CASE WHEN is_conv = 0 AND kept = 0 THEN 1 ELSE 0 END) AS beyond_lookback,
    SUM(CASE WHEN is_conv = 0 THEN dormant ELSE 0 END) AS reengaged
  FROM marked GROUP BY person_id, journey_no
)"""

_TOUCHES = """
touches AS (
  SELECT person_id, journey_no, ord, seq, t_us, conv_us,
    CASE WHEN conv_us IS NULL THEN 0 ELSE 1 END AS converts, journey_revenue AS revenue,
    ROW_NUMBER() OVER (PARTITION BY person_id, journey_no ORDER BY ord) AS pos,
    COUNT(*) OVER (PARTITION BY person_id, journey_no) AS n,
    COALESCE(conv_us, MAX(t_us) OVER (PARTITION BY person_id, journey_no)) AS end_us,
    MAX(t_us) OVER (PARTITION BY person_id, journey_no) AS last_us,
    code{channel_column}
  FROM marked WHERE kept = 1
)"""

_SUMMARY = """
weighted AS (
  SELECT code, revenue{weights}
  FROM {credited}
),
credit_sums AS (
  SELECT code{sums} FROM weighted GROUP BY code
)
SELECT 'path' AS part, path AS item, CAST(SUM(converts) AS DOUBLE) AS a,
       CAST(SUM(CASE WHEN converts = 1 THEN revenue ELSE 0 END) AS DOUBLE) AS b,
       CAST(SUM(1 - converts) AS DOUBLE) AS c,
       CAST(SUM(beyond_lookback) AS DOUBLE) AS d, CAST(SUM(reengaged) AS DOUBLE) AS e
FROM journeys GROUP BY path{credit_parts}"""

_JOURNEY_ROWS = """
people AS (
  SELECT person_id, MIN(CASE WHEN kind = 1 THEN seq END) AS first_seq, MIN(seq) AS first_any
  FROM events GROUP BY person_id
),
orphans AS (
  SELECT person_id, journey_no, conv_us, revenue FROM journeys WHERE converts = 1 AND kept_touches = 0
)
SELECT p.first_seq, p.first_any, t.journey_no, t.pos, t.code{channel_select}, t.t_us, t.end_us, t.last_us,
       t.converts, CASE WHEN t.converts = 1 THEN t.revenue ELSE 0 END AS revenue, 0 AS orphan
FROM touches AS t JOIN people AS p ON t.person_id = p.person_id
UNION ALL
SELECT p.first_seq, p.first_any, o.journey_no, 0 AS pos, -1 AS code{channel_null}, o.conv_us AS t_us,
       o.conv_us AS end_us, o.conv_us AS last_us, 1 AS converts, o.revenue, 1 AS orphan
FROM orphans AS o JOIN people AS p ON o.person_id = p.person_id
ORDER BY 1, 2, 3, 4"""


@dataclass(frozen=True)
class Rules:
    """What a query needs: the journey settings and the segment labels as codes."""

    lookback_days: int
    dormancy_days: int
    labels: Sequence[str]  # sorted segment labels: code i is labels[i]
    channel_labels: Sequence[str] | None = None  # when the dimension is not the channel


def _literal(value: Any) -> str:
    import sqlglot.expressions as exp

    if isinstance(value, str):
        return exp.Literal.string(value).sql("duckdb")
    if isinstance(value, float):
        return f"CAST({value!r} AS DOUBLE)"
    return str(int(value))


def _code_case(column: str, labels: Sequence[str]) -> str:
    """The label → code mapping as a CASE (portable to every dialect; labels are few)."""
    if not labels:
        return "-1"
    whens = " ".join(f"WHEN {_literal(label)} THEN {i}" for i, label in enumerate(labels))
    return f"CASE COALESCE({column}, {_literal(NOT_SET)}) {whens} END"


def _prefix(rules: Rules, *, touches: bool) -> str:
    """The shared CTEs: journeys always, the kept touches with their positions when ``touches``."""
    # labels become integer codes as the touches are read, so the sorts carry integers, not strings
    channel_code = channel_none = channel_column = ""
    if rules.channel_labels is not None:
        channel_code = f", {_code_case('channel', rules.channel_labels)} AS channel_code"
        channel_none, channel_column = ", -1 AS channel_code", ", channel_code"
    text = _JOURNEYS + ("," + _TOUCHES if touches else "")
    return "WITH " + text.format(
        dormancy_us=rules.dormancy_days * US_PER_DAY,
        lookback_us=rules.lookback_days * US_PER_DAY,
        code=_code_case("segment", rules.labels),
        channel_code=channel_code,
        channel_none=channel_none,
        channel_column=channel_column,
    )


def _weight(rule: str, params: dict[str, Any], rules: Rules) -> str:
    """One touch's share of its converting journey's credit under a heuristic rule."""
    if rule == "first_touch":
        return "CASE WHEN pos = 1 THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END"
    if rule == "last_touch":
        return "CASE WHEN pos = n THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END"
    if rule == "linear":
        return "CAST(1 AS DOUBLE) / n"
    if rule == "position_based":
        first, middle, last = (float(w) for w in params["weights"])
        pair = first + last
        return (
            f"CASE WHEN n = 1 THEN CAST(1 AS DOUBLE) "
            f"WHEN n = 2 THEN CASE WHEN pos = 1 THEN {_literal(first / pair)} ELSE {_literal(last / pair)} END "
            f"WHEN pos = 1 THEN {_literal(first)} WHEN pos = n THEN {_literal(last)} "
            f"ELSE {_literal(middle)} / (n - 2) END"
        )
    if rule == "time_decay":
        # 0.5 ** (hours before the journey's last touch / half-life), normalised in the journey:
        # measuring from the last touch instead of the conversion cancels out and never underflows
        per_half_life = _literal(float(params["half_life_days"]) * 24 * US_PER_HOUR)
        decay = f"POWER(CAST(2 AS DOUBLE), CAST(t_us - last_us AS DOUBLE) / {per_half_life})"
        return f"{decay} / SUM({decay}) OVER (PARTITION BY person_id, journey_no)"
    if rule == "last_non_direct":
        # the channel's codes: the dimension's own when it is the channel
        column, labels = ("channel_code", rules.channel_labels) if rules.channel_labels is not None else (
            "code", rules.labels)  # fmt: skip
        direct = set(params["direct_channels"])
        codes = ", ".join(str(code) for code, label in enumerate(labels) if label in direct) or "-1"
        last = f"MAX(CASE WHEN {column} NOT IN ({codes}) THEN pos END) OVER (PARTITION BY person_id, journey_no)"
        credited = f"COALESCE({last}, n)"
        return f"CASE WHEN pos = {credited} THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END"
    raise ValueError(f"no SQL rule '{rule}'")


def summary_sql(rules: Rules, heuristics: dict[str, tuple[str, dict[str, Any]]], dialect: str) -> str:
    """Path table, credit sums of ``heuristics`` (model id → (rule, params)) and statistics, in ``dialect``."""
    weights, sums, parts = [], [], []
    for i, (model_id, (rule, params)) in enumerate(heuristics.items()):
        weights.append(f",\n    {_weight(rule, params, rules)} AS w{i}")
        sums.append(f", SUM(w{i}) AS c{i}, SUM(w{i} * revenue) AS r{i}")
        parts.append(
            f"\nUNION ALL\nSELECT {_literal('credit:' + model_id)} AS part, CAST(code AS VARCHAR) AS item, "
            f"c{i} AS a, r{i} AS b, CAST(0 AS DOUBLE) AS c, CAST(0 AS DOUBLE) AS d, CAST(0 AS DOUBLE) AS e FROM "
            "credit_sums"
        )
    if not heuristics:
        summary = _SUMMARY[_SUMMARY.index("SELECT 'path'") :].format(credit_parts="")
        return _transpile(_prefix(rules, touches=False) + "\n" + summary, dialect)
    credited = "(SELECT * FROM touches WHERE converts = 1) AS converting"
    summary = _SUMMARY.format(
        weights="".join(weights), sums="".join(sums), credited=credited, credit_parts="".join(parts)
    )
    return _transpile(_prefix(rules, touches=True) + "," + summary, dialect)


def journey_rows_sql(rules: Rules, dialect: str) -> str:
    """Every kept touch (and every orphan conversion) in the in-memory engine's journey order."""
    has_channel = rules.channel_labels is not None
    text = _JOURNEY_ROWS.format(
        channel_select=", t.channel_code" if has_channel else "",
        channel_null=", -1 AS channel_code" if has_channel else "",
    )
    return _transpile(_prefix(rules, touches=True) + "," + text, dialect)


def _transpile(sql: str, dialect: str) -> str:
    if dialect == "duckdb":
        return sql
    import sqlglot

    return sqlglot.transpile(sql, read="duckdb", write=dialect)[0]
