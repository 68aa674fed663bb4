"""The built-in editions: board, CFO, CMO and sales, each a choice of sections, lead metrics and summary topics.

Editions are data: a theme or plugin registers its own (or a variant under a new id)
with the same hook. Sections no plugin registered are skipped, so ``forecast``,
``economics`` and ``segments`` appear once a plugin provides them.
"""

from __future__ import annotations

from roistory.api import N_, Edition, hookimpl

EDITIONS = [
    Edition(
        "board",
        N_("Board edition"),
        sections=("summary", "kpis"),  # goal status is in the summary: two pages with the cover
        lead_metrics=("roas", "roi", "revenue", "spend"),
        headline="roas",
        topics=("headline", "margin", "drivers", "goals", "caveats"),
        max_pages=2,
        description=N_("Two pages: the headline, why it moved, and the goals."),
    ),
    Edition(
        "cfo",
        N_("CFO edition"),
        sections=("summary", "kpis", "economics", "forecast", "trends", "goals", "data_quality", "definitions"),
        lead_metrics=("roi", "payback_months", "cac", "clv_to_cac", "spend", "revenue"),
        headline="roi",
        topics=("headline", "margin", "economics", "drivers", "goals", "caveats"),
        description=N_("Return, payback, CAC and marketing's share of the forecast."),
    ),
    Edition(
        "cmo",
        N_("CMO edition"),
        sections=(
            "summary",
            "kpis",
            "channels",
            "segments",
            "attribution",
            "recommendations",
            "trends",
            "goals",
            "data_quality",
            "definitions",
        ),
        lead_metrics=("roas", "roi", "revenue", "spend", "cpl", "cac"),
        headline="roas",
        topics=("headline", "margin", "drivers", "performers", "goals", "caveats"),
        description=N_("Channels, attribution and where to move budget."),
    ),
    Edition(
        "sales",
        N_("Sales edition"),
        sections=("summary", "kpis", "funnel", "forecast", "goals", "definitions"),
        lead_metrics=("pipeline", "sqls", "close_rate", "cohort_close_rate", "sales_cycle_days", "won_deals"),
        headline="pipeline",
        topics=("headline", "funnel", "goals", "caveats"),
        description=N_("Pipeline, close rate and funnel velocity."),
    ),
]


@hookimpl
def register_editions(register):
    for edition in EDITIONS:
        register(edition)
