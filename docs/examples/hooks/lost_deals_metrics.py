"""Example for register_metrics: a base measure and a formula over it."""

from roistory.api import Metric, hookimpl


def lost_deals(data, dimension):
    """Leads whose lost_at falls in the period: a count, or a Series per segment."""
    rows = data.rows("leads", "lost_at")
    return data.total(rows, "leads", dimension)


@hookimpl
def register_metrics(register):
    register(
        Metric(
            "lost_deals",
            "Lost deals",
            "count",
            "Leads lost in the period (leads.lost_at).",
            compute=lost_deals,
            needs=("leads.lost_at",),
            direction="lower",
        )
    )
    register(
        Metric(
            "win_share",
            "Share of decided deals won",
            "percent",
            "Won deals / (won + lost deals), all decided in the period.",
            formula="won_deals / (won_deals + lost_deals)",
        )
    )
