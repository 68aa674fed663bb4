"""The ``summary`` section: the story in a few sentences, generated from the computed numbers."""

from __future__ import annotations

import math

from roistory.api import ReportContext, ReportSection, hookimpl


def _ok(value) -> bool:
    return isinstance(value, float) and not math.isnan(value)


def _movement(report: ReportContext, metric: str, key: str) -> str | None:
    """'rose 12.5%' / 'fell 3.0%' / 'was flat' for a metric against a comparison period."""
    _ = report.gettext
    current, before = report.value(metric), report.value(metric, key)
    if not (_ok(current) and _ok(before)) or before == 0:
        return None
    change = (current - before) / abs(before)
    if abs(change) < 0.005:
        return _("was flat")
    percent = report.formatter.percent(abs(change))
    return _("rose {change}").format(change=percent) if change > 0 else _("fell {change}").format(change=percent)


def build(report: ReportContext) -> dict | None:
    _ = report.gettext
    fmt = report.formatter
    spend, revenue, roi, roas = (report.value(m) for m in ("spend", "revenue", "roi", "roas"))
    period = fmt.period(report.period)
    sentences = []
    if _ok(spend) and _ok(revenue) and _ok(roi):
        sentences.append(
            _("In {period}, marketing spent {spend} and generated {revenue} in revenue: an ROI of {roi} (ROAS {roas}).").format(
                period=period, spend=fmt.money(spend), revenue=fmt.money(revenue), roi=fmt.percent(roi), roas=fmt.multiple(roas)
            )
        )
    elif _ok(spend):
        sentences.append(
            _("In {period}, marketing spent {spend}; revenue is not measurable with the data given, so ROI cannot be stated.").format(
                period=period, spend=fmt.money(spend)
            )
        )
    for key in ("previous", "year_ago"):
        if key not in report.periods:
            continue
        label = fmt.period(report.periods[key])
        revenue_move, spend_move = _movement(report, "revenue", key), _movement(report, "spend", key)
        if revenue_move and spend_move:
            before_roi = report.value("roi", key)
            if _ok(roi) and _ok(before_roi):
                sentence = _("Against {label}, revenue {revenue_move} and spend {spend_move}; ROI moved from {before} to {now}.").format(
                    label=label, revenue_move=revenue_move, spend_move=spend_move,
                    before=fmt.percent(before_roi), now=fmt.percent(roi),
                )
            else:
                sentence = _("Against {label}, revenue {revenue_move} and spend {spend_move}.").format(
                    label=label, revenue_move=revenue_move, spend_move=spend_move
                )
            sentences.append(sentence)
    sentences += _channel_sentences(report)
    if not sentences:
        return None
    return {"sentences": sentences}


def _channel_sentences(report: ReportContext) -> list[str]:
    """Which channels moved, and which returned least: where budget decisions start."""
    _ = report.gettext
    fmt = report.formatter
    if "channel" not in report.dimensions:
        return []
    now = report.segment_values(["spend", "revenue", "roi"], "channel")
    now = now[now["spend"] > 0].dropna(subset=["roi"])
    if now.empty:
        return []
    out = []
    if "previous" in report.periods:
        before = report.segment_values(["roi"], "channel", "previous")["roi"]
        delta = (now["roi"] - before.reindex(now.index)).dropna()
        if len(delta):
            best = delta.idxmax()
            if delta[best] > 0:
                out.append(
                    _("{channel} improved most: ROI {before} → {now} against {label}.").format(
                        channel=best,
                        before=fmt.percent(before[best]),
                        now=fmt.percent(now.loc[best, "roi"]),
                        label=fmt.period(report.periods["previous"]),
                    )
                )
    best_roi = now["roi"].idxmax()
    worst = now["roi"].idxmin()
    out.append(
        _("{channel} returned the most per dollar (ROI {roi}).").format(channel=best_roi, roi=fmt.percent(now.loc[best_roi, "roi"]))
    )
    if worst != best_roi:
        out.append(
            _("{channel} returned the least: {revenue} on {spend} of spend (ROI {roi}), a candidate for moving budget.").format(
                channel=worst,
                revenue=fmt.money(now.loc[worst, "revenue"]),
                spend=fmt.money(now.loc[worst, "spend"]),
                roi=fmt.percent(now.loc[worst, "roi"]),
            )
        )
    model = _(report.registry.models[report.primary_model].label)
    out.append(_("Channel revenue is credited with the {model} attribution model.").format(model=model))
    return out


@hookimpl
def register_report_sections(register):
    register(ReportSection("summary", "Summary", "sections/summary.html.j2", build, "The period's story in sentences.", order=10))
