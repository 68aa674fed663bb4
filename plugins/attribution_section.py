"""The ``attribution`` section: how credit moves between channels under each model."""

from __future__ import annotations

from functools import partial

import pandas as pd

from roistory.api import (
    N_,
    ReportContext,
    ReportSection,
    applicable_results,
    column_bands,
    hookimpl,
    longest_word,
    range_chart,
)

KINDS = {"experiment": N_("Experiment"), "mmm": N_("MMM")}


def measured(report: ReportContext, channels: list[str]) -> dict:
    """Lift tests and MMM results beside the models: a share column per result, and their details."""
    results = applicable_results(report)
    if results.empty:
        return {"columns": [], "rows": {}, "details": []}
    fmt, _ = report.formatter, report.gettext
    names = list(dict.fromkeys(results["name"]))
    kind_of = dict(zip(results["name"], results["kind"], strict=False))
    columns = [{"label": name, "kind": _(KINDS[kind_of[name]])} for name in names]
    rows = {}
    for channel in channels:
        cells = []
        for name in names:
            match = results[(results["name"] == name) & (results["channel"] == channel)]
            share = match["share"].iloc[0] if len(match) else float("nan")
            cells.append(fmt.percent(share) if share == share else "—")
        rows[channel] = cells
    details = []
    for row in results.itertuples():
        value, money = (
            (row.incremental_revenue, True)
            if row.incremental_revenue == row.incremental_revenue
            else (row.incremental_conversions, False)
        )
        show = fmt.money if money else (lambda v: fmt.number(v, 1))
        interval = (
            f"{show(row.ci_low)} – {show(row.ci_high)}"
            if row.ci_low == row.ci_low and row.ci_high == row.ci_high
            else "—"
        )
        details.append(
            {
                "name": row.name,
                "kind": _(KINDS[row.kind]),
                "method": row.method,
                "channel": row.channel,
                "window": f"{fmt.date(row.period_start.date())} – {fmt.date(row.period_end.date())}",
                "value": show(value) + ("" if money else " " + _("conversions")),
                "interval": interval,
                "share": fmt.percent(row.share) if row.share == row.share else "—",
            }
        )
    return {"columns": columns, "rows": rows, "details": details}


def build(report: ReportContext) -> dict | None:

    if not report.attribution:
        return None
    fmt = report.formatter
    _ = report.gettext
    models = [m for m in report.config.attribution.models if m in report.attribution]
    revenue = pd.DataFrame({m: report.attribution[m]["channel"]["revenue"] for m in models}).fillna(0.0)
    conversions = pd.DataFrame({m: report.attribution[m]["channel"]["conversions"] for m in models}).fillna(0.0)
    if not conversions.to_numpy().any() and not revenue.to_numpy().any():
        return {
            "nothing_to_show": _("No conversions in {period}: there is no credit to attribute.").format(
                period=fmt.period(report.period)
            )
        }
    total = revenue.sum()
    share = revenue / total.where(total != 0)
    share = share.loc[share.max(axis=1).sort_values(ascending=False).index]
    spend = report.value("spend", dimension="channel")
    margin = report.config.report.margin
    rows = []
    for channel in share.index:
        channel_spend = spend.get(channel) if spend is not None else None
        rois = []
        for m in models:
            if channel_spend and channel_spend > 0:
                rois.append(fmt.percent((revenue.loc[channel, m] * margin - channel_spend) / channel_spend, 0))
            else:
                rois.append("—")
        rows.append(
            {
                "channel": str(channel),
                "shares": [fmt.percent(share.loc[channel, m]) for m in models],
                "conversions": [fmt.number(conversions.loc[channel, m], 1) for m in models],
                "range": f"{fmt.percent(share.loc[channel].min())} – {fmt.percent(share.loc[channel].max())}",
                "spread": fmt.number((share.loc[channel].max() - share.loc[channel].min()) * 100, 1),
                "rois": rois,
            }
        )
    lift = measured(report, [str(c) for c in share.index])
    for row in rows:
        row["measured"] = lift["rows"].get(row["channel"], [])
    labels = {m: _(report.registry.models[m].label) for m in models}
    chart = range_chart(
        [str(c) for c in share.index],
        {labels[m]: list(share[m].fillna(0.0)) for m in models},
        value_format=partial(fmt.percent, digits=0),  # a partial, not a lambda: it can cross to the worker
    )
    spread = share.max(axis=1) - share.min(axis=1)
    # the printed tables: model columns, the range, then measured results, in bands that fit the page (8pt)
    columns = [
        [longest_word(labels[m]), *(r["shares"][i] for r in rows), *(r["rois"][i] for r in rows)]
        for i, m in enumerate(models)
    ]
    columns.append([longest_word(_("Range")), *(r["range"] for r in rows)])
    columns += [
        [longest_word(c["label"]), longest_word(c["kind"]), *(r["measured"][j] for r in rows)]
        for j, c in enumerate(lift["columns"])
    ]
    n = len(models)
    bands = [
        {
            "models": [labels[models[i]] for i in band if i < n],
            "with_range": n in band,
            "measured": [lift["columns"][i - n - 1] for i in band if i > n],
            "rows": [
                {
                    "channel": r["channel"],
                    "shares": [r["shares"][i] for i in band if i < n],
                    "rois": [r["rois"][i] for i in band if i < n],
                    "range": r["range"],
                    "measured": [r["measured"][i - n - 1] for i in band if i > n],
                }
                for r in rows
            ],
        }
        for band in column_bands([r["channel"] for r in rows], columns, font_size=8, padding=9)
    ]
    most_disputed = spread.idxmax() if spread.notna().any() else None
    return {
        "models": [
            {"id": m, "label": labels[m], "description": _(report.registry.models[m].description)} for m in models
        ],
        "primary": labels.get(report.primary_model),
        "rows": rows,
        "bands": bands,
        "measured": lift["columns"],
        "measured_details": lift["details"],
        "chart": chart,
        "lookback_days": report.config.attribution.lookback_days,
        "disputed": (
            _("The models disagree most about {channel}: its share of revenue ranges from {low} to {high}.").format(
                channel=most_disputed,
                low=fmt.percent(share.loc[most_disputed].min()),
                high=fmt.percent(share.loc[most_disputed].max()),
            )
            if most_disputed is not None and len(models) > 1
            else None
        ),
    }


@hookimpl
def register_report_sections(register):
    register(
        ReportSection(
            "attribution",
            "Attribution: how credit moves between models",
            "sections/attribution.html.j2",
            build,
            "Credit per channel under every configured model, side by side.",
            order=60,
        )
    )
