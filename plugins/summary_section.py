"""The ``summary`` section: the period's story, generated sentence by sentence from computed results.

It leads with a headline (the edition's headline metric against the first
comparison period), then says why: the segments whose contributions explain
most of the change (``roistory.drivers``), best and worst performers, the
funnel, customer economics and goal status, then caveats. Every number is a
:class:`roistory.api.Figure` that names the metric, segment and period it
states (the JSON ``narrative`` list repeats them), and a claim that rests on
few events or that a data-quality finding touches is softened or replaced.
Which of these topics an edition speaks about, and in what order, is the
edition's ``topics``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from roistory.api import (
    NO_TOUCHPOINTS,
    SMALL_SAMPLE,
    UNEXPLAINED,
    Figure,
    ReportContext,
    ReportSection,
    Sentence,
    compose,
    distinct,
    driver_contributions,
    hookimpl,
    metric_figure,
)

DRIVERS_SHOWN = 3  # the contributions that explain most of the change; more reads as a table
# The tables a claim about return rests on: without rows for the period, ROI and channel claims are replaced.
RETURN_TABLES = ("spend", "conversions", "leads", "touchpoints")


def _ok(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _comparison(report: ReportContext) -> str | None:
    return next((key for key in ("previous", "year_ago") if key in report.periods), None)


def _missing_tables(report: ReportContext) -> list[str]:
    """Tables the report loaded that have no rows in the period (a source missing for the period)."""
    missing = []
    for finding in report.data_quality:
        if finding.code == "table_missing_for_period":
            table = finding.message.split("'")[1] if "'" in finding.message else ""
            if table in RETURN_TABLES:
                missing.append(table)
    return missing


# -- topics -------------------------------------------------------------------


def headline(report: ReportContext) -> list[Sentence]:
    """The edition's headline metric now and against the first comparison, then the period's return."""
    _ = report.gettext
    fmt = report.formatter
    metric_id = report.edition.headline
    if metric_id not in report.metrics or metric_figure(report, metric_id) is None:
        metric_id = "roas"  # the edition's own metric is not measurable with this data: lead with the return
    period = fmt.period(report.period)
    out = []
    if _missing_tables(report) and metric_id in ("roi", "roas"):
        tables = ", ".join(_missing_tables(report))
        out.append(
            compose(
                _("Return on marketing cannot be stated for {period}: {tables} has no rows for the period."),
                "headline",
                period=period,
                tables=tables,
            )
        )
        return out
    now = metric_figure(report, metric_id) if metric_id in report.metrics else None
    key = _comparison(report)
    before = metric_figure(report, metric_id, key) if now and key else None
    if now is not None:
        label = _(report.metrics[metric_id].label)
        if metric_id == "roas":
            now = metric_figure(report, "roas", style="multiple")
            before = metric_figure(report, "roas", key, style="multiple") if before else None
            if before is None:
                text = _("Marketing returned {now} its cost in {period}.")
            elif now.value > before.value:
                text = _("Marketing returned {now} its cost in {period}, up from {before} in {label}.")
            elif now.value < before.value:
                text = _("Marketing returned {now} its cost in {period}, down from {before} in {label}.")
            else:
                text = _("Marketing returned {now} its cost in {period}, as in {label}.")
        elif before is None:
            text = _("{metric} was {now} in {period}.")
        elif now.value > before.value:
            text = _("{metric} was {now} in {period}, up from {before} in {label}.")
        elif now.value < before.value:
            text = _("{metric} was {now} in {period}, down from {before} in {label}.")
        else:
            text = _("{metric} was {now} in {period}, as in {label}.")
        out.append(
            compose(
                text,
                "headline",
                metric=label,
                now=now,
                before=before or "",
                period=period,
                label=fmt.period(report.periods[key]) if key else "",
            )
        )
    if metric_id not in ("roas", "roi"):
        return out  # an edition that leads with another metric (sales: pipeline) does not restate the return
    spend, revenue, roi = (metric_figure(report, m) for m in ("spend", "revenue", "roi"))
    if spend and revenue and roi and metric_id == "roi":  # the headline stated ROI already
        out.append(
            compose(
                _("Marketing spent {spend} and generated {revenue} in revenue."),
                "headline",
                spend=spend,
                revenue=revenue,
            )
        )
    elif spend and revenue and roi:
        out.append(
            compose(
                _("Marketing spent {spend} and generated {revenue} in revenue: an ROI of {roi}."),
                "headline",
                spend=spend,
                revenue=revenue,
                roi=roi,
            )
        )
    elif spend and revenue is None:
        out.append(
            compose(
                _("Marketing spent {spend}; revenue is not measurable with the data given, so ROI cannot be stated."),
                "headline",
                spend=spend,
            )
        )
    return out


def margin(report: ReportContext) -> list[Sentence]:
    """The margin ROI was computed with: 1.0 means return on revenue, not on profit."""
    _ = report.gettext
    if metric_figure(report, "roi") is None:
        return []
    value = report.config.report.margin
    figure = Figure(report.formatter.number(value, 2), "margin", value, source="report")
    if value == 1.0:
        text = _("ROI is computed with a margin of {margin}: it is the return on revenue, not on profit.")
    else:
        text = _("ROI is computed with a margin of {margin}: revenue counts at that share, as gross profit.")
    return [compose(text, "margin", margin=figure)]


def drivers(report: ReportContext) -> list[Sentence]:
    """What moved revenue and spend, and the segments that moved ROI most (mix-rate contributions)."""
    _ = report.gettext
    fmt = report.formatter
    key = _comparison(report)
    if key is None or "channel" not in report.dimensions or _missing_tables(report):
        return []
    label = fmt.period(report.periods[key])
    out = []
    revenue = (metric_figure(report, "revenue", key), metric_figure(report, "revenue"))
    spend = (metric_figure(report, "spend", key), metric_figure(report, "spend"))
    if all(revenue) and all(spend):
        out.append(
            compose(
                _("Against {label}, revenue went from {r0} to {r1} and spend from {s0} to {s1}."),
                "drivers",
                label=label,
                r0=revenue[0],
                r1=revenue[1],
                s0=spend[0],
                s1=spend[1],
            )
        )
    parts = [c for c in driver_contributions(report, "channel") if c.metric == "roi" and c.comparison == key]
    parts = [c for c in parts if c.segment != UNEXPLAINED and abs(c.contribution) >= 0.005]
    parts.sort(key=lambda c: -abs(c.contribution))
    for c in parts[:DRIVERS_SHOWN]:
        segment = {"channel": c.segment}
        points = Figure(fmt.number(abs(c.contribution) * 100, 1), "roi", c.contribution, key, segment, "drivers")
        r0, r1 = metric_figure(report, "revenue", key, segment), metric_figure(report, "revenue", "current", segment)
        s0, s1 = metric_figure(report, "spend", key, segment), metric_figure(report, "spend", "current", segment)
        raised = c.contribution > 0
        if r0 and r1 and s0 and s1:
            text = (
                _(
                    "{channel} raised ROI by {points} points: its revenue went from {r0} to {r1} on spend that went "
                    "from {s0} to {s1}."
                )
                if raised
                else _(
                    "{channel} lowered ROI by {points} points: its revenue went from {r0} to {r1} on spend that went "
                    "from {s0} to {s1}."
                )
            )
        else:
            text = (
                _("{channel} raised ROI by {points} points against {label}.")
                if raised
                else _("{channel} lowered ROI by {points} points against {label}.")
            )
        out.append(
            compose(
                text,
                "drivers",
                channel=c.segment,
                points=points,
                r0=r0 or "",
                r1=r1 or "",
                s0=s0 or "",
                s1=s1 or "",
                label=label,
            )
        )
    return out


def _model_range(report: ReportContext, channel: str) -> tuple[Figure, Figure] | None:
    """The lowest and highest revenue the attribution models credit the channel with."""
    values = []
    for model_id, by_dimension in report.attribution.items():
        frame = by_dimension.get("channel")
        if frame is not None and channel in frame.index and _ok(frame.loc[channel, "revenue"]):
            values.append((float(frame.loc[channel, "revenue"]), model_id))
    if len(values) < 2:
        return None
    (low, low_model), (high, high_model) = min(values), max(values)
    fmt = report.formatter
    segment = {"channel": channel}
    return (
        Figure(fmt.money(low), low_model, low, "current", segment, "attribution"),
        Figure(fmt.money(high), high_model, high, "current", segment, "attribution"),
    )


# Above this share of revenue from conversions no touchpoint reached, channel claims cover too little to stand alone.
UNREACHED_SHARE = 0.2


def _unreached(report: ReportContext) -> list[Sentence]:
    """The caveat that qualifies channel claims when much revenue reached no channel."""
    _ = report.gettext
    orphans = metric_figure(report, "revenue", segment={"channel": NO_TOUCHPOINTS})
    total = report.value("revenue")
    if orphans is None or not _ok(total) or total <= 0 or orphans.value <= UNREACHED_SHARE * total:
        return []
    return [
        compose(
            _(
                "{revenue} of revenue came from conversions no touchpoint reached: the channel figures below leave it "
                "out."
            ),
            "performers",
            revenue=orphans,
        )
    ]


# Models disagree "strongly" on a channel when the highest credit is more than twice the lowest.
DISAGREEMENT = 2.0


def performers(report: ReportContext) -> list[Sentence]:
    """Best and worst ROI by channel, softened when few conversions or the models disagree."""
    _ = report.gettext
    ngettext = report.translations.ngettext
    fmt = report.formatter
    if "channel" not in report.dimensions or _missing_tables(report):
        return []
    now = report.segment_values(["spend", "roi", "conversions"], "channel")
    now = now[now["spend"] > 0].dropna(subset=["roi"])
    if now.empty:
        return []
    out = _unreached(report)
    best, worst = now["roi"].idxmax(), now["roi"].idxmin()
    for channel, is_best in ((best, True), (worst, False)):
        if not is_best and channel == best:
            break
        segment = {"channel": channel}
        roi = metric_figure(report, "roi", segment=segment)
        events = metric_figure(report, "conversions", segment=segment)
        if events is not None:  # credited conversions are fractional under multi-touch models
            digits = 0 if float(events.value).is_integer() else 1
            events = Figure(
                fmt.number(events.value, digits), events.metric, events.value, events.period, events.segment
            )
        spread = _model_range(report, channel)
        if events is not None and events.value < SMALL_SAMPLE:
            count = math.ceil(events.value)
            text = (
                ngettext(
                    "{channel} shows the highest ROI ({roi}), but on {n} conversion: too few to rely on; treat it as a "
                    "lead to test.",
                    "{channel} shows the highest ROI ({roi}), but on {n} conversions: too few to rely on; treat it as "
                    "a lead to test.",
                    count,
                )
                if is_best
                else ngettext(
                    "{channel} shows the lowest ROI ({roi}), but on {n} conversion: too few to judge it yet.",
                    "{channel} shows the lowest ROI ({roi}), but on {n} conversions: too few to judge it yet.",
                    count,
                )
            )
            out.append(compose(text, "performers", channel=channel, roi=roi, n=events))
        elif spread and spread[0].value > 0 and spread[1].value > DISAGREEMENT * spread[0].value:
            text = (
                _(
                    "{channel} shows the highest ROI ({roi}), but the attribution models credit it with anywhere from "
                    "{low} to {high}: the ranking depends on the model."
                )
                if is_best
                else _(
                    "{channel} shows the lowest ROI ({roi}), but the attribution models credit it with anywhere from "
                    "{low} to {high}: the ranking depends on the model."
                )
            )
            out.append(compose(text, "performers", channel=channel, roi=roi, low=spread[0], high=spread[1]))
        else:
            text = (
                _("{channel} returned the most per dollar (ROI {roi}).")
                if is_best
                else _("{channel} returned the least (ROI {roi}), a candidate for moving budget.")
            )
            out.append(compose(text, "performers", channel=channel, roi=roi))
    model = (
        _(report.registry.models[report.primary_model].label)
        if report.primary_model in report.registry.models
        else report.primary_model
    )
    out.append(compose(_("Channel revenue is credited with the {model} attribution model."), "performers", model=model))
    return out


def funnel(report: ReportContext) -> list[Sentence]:
    """Pipeline, close rate (flagged when above 100% and given per cohort) and sales cycle."""
    _ = report.gettext
    out = []
    pipeline, sqls = metric_figure(report, "pipeline"), metric_figure(report, "sqls")
    if (
        sqls and pipeline and "headline" in report.edition.topics and report.edition.headline == "pipeline"
    ):  # stated above
        out.append(compose(_("Marketing generated {sqls} SQLs."), "funnel", sqls=sqls))
    elif pipeline and sqls:
        out.append(
            compose(
                _("Marketing generated {pipeline} of pipeline and {sqls} SQLs."), "funnel", pipeline=pipeline, sqls=sqls
            )
        )
    close, won = metric_figure(report, "close_rate"), metric_figure(report, "won_deals")
    cohort = metric_figure(report, "cohort_close_rate")
    if close and close.value > 1.0:
        text = (
            _(
                "The close rate reads {rate} because deals won in the period were SQLs in earlier periods; of this "
                "period's SQLs, {cohort} have been won so far."
            )
            if cohort
            else _(
                "The close rate reads {rate} because deals won in the period were SQLs in earlier periods: it compares "
                "different cohorts."
            )
        )
        out.append(compose(text, "funnel", rate=close, cohort=cohort or ""))
    elif close and won:
        out.append(compose(_("Sales closed {won} deals, a close rate of {rate}."), "funnel", won=won, rate=close))
    cycle = metric_figure(report, "sales_cycle_days", style="number")
    if cycle:
        out.append(compose(_("The median deal took {days} days from lead to won."), "funnel", days=cycle))
    return out


def economics(report: ReportContext) -> list[Sentence]:
    """What a customer costs and how fast it pays back."""
    _ = report.gettext
    cac, payback = metric_figure(report, "cac"), metric_figure(report, "payback_months", style="number")
    clv_to_cac = metric_figure(report, "clv_to_cac", style="multiple")
    out = []
    if cac and payback:
        out.append(
            compose(
                _("A new customer cost {cac} to acquire and pays that back in {months} months."),
                "economics",
                cac=cac,
                months=payback,
            )
        )
    elif cac:
        out.append(compose(_("A new customer cost {cac} to acquire."), "economics", cac=cac))
    if clv_to_cac:
        out.append(
            compose(_("Customer lifetime value is {ratio} the acquisition cost."), "economics", ratio=clv_to_cac)
        )
    return out


def goals(report: ReportContext) -> list[Sentence]:
    """Goal status: every goal on track in one sentence, else the goals that are not."""
    _ = report.gettext
    fmt = report.formatter
    results = [g for g in report.goals if g.status != "not_measurable"]
    if not results:
        return []
    behind = [g for g in results if g.status in ("at_risk", "off_track")]
    if not behind:
        return [compose(_("Every goal is on track."), "goals")]
    out = []
    for goal in behind:
        name = goal.objective or goal.id
        progress = (
            Figure(fmt.percent(goal.progress), goal.id, goal.progress, source="goals") if _ok(goal.progress) else None
        )
        if progress is None:
            continue
        text = (
            _("Goal “{goal}” is at risk: {progress} of the target reached.")
            if goal.status == "at_risk"
            else _("Goal “{goal}” is off track: {progress} of the target reached.")
        )
        out.append(compose(text, "goals", goal=name, progress=progress))
    return out


def caveats(report: ReportContext) -> list[Sentence]:
    """What limits the claims above: few events over the whole period, sources missing."""
    _ = report.gettext
    ngettext = report.translations.ngettext
    out = []
    events = metric_figure(report, "conversions", style="number")
    if events is not None and events.value < SMALL_SAMPLE:
        count = int(round(events.value))
        out.append(
            compose(
                ngettext(
                    "The period's return rests on {n} conversion: one more or less moves every rate above.",
                    "The period's return rests on {n} conversions: one more or less moves every rate above.",
                    count,
                ),
                "caveats",
                n=events,
            )
        )
    missing = _missing_tables(report)
    if missing:
        out.append(
            compose(
                _("No rows for the period in: {tables}; claims that need them are left out."),
                "caveats",
                tables=", ".join(missing),
            )
        )
    return out


TOPIC_SENTENCES: dict[str, Callable[[ReportContext], list[Sentence]]] = {
    "headline": headline,
    "margin": margin,
    "drivers": drivers,
    "performers": performers,
    "funnel": funnel,
    "economics": economics,
    "goals": goals,
    "caveats": caveats,
}


def narrative(report: ReportContext) -> list[Sentence]:
    """The summary's sentences for the report's edition, none repeated."""
    sentences: list[Sentence] = []
    for topic in report.edition.topics:
        sentences += TOPIC_SENTENCES[topic](report)
    return distinct(sentences)


def build(report: ReportContext) -> dict | None:
    sentences = narrative(report)
    if not sentences:
        return None
    return {
        "sentences": [s.as_template_data() for s in sentences],
        "narrative": [s.as_json(edition=report.edition.id, section="summary") for s in sentences],
    }


@hookimpl
def register_report_sections(register):
    register(
        ReportSection(
            "summary", "Summary", "sections/summary.html.j2", build, "The period's story in sentences.", order=10
        )
    )
