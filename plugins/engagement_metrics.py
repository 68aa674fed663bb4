"""Response and activity metrics: email, web traffic, social, impression share, share of spend."""

from __future__ import annotations

import pandas as pd

from roistory.api import Metric, PeriodData, hookimpl, period_total

EMAIL_COUNTS = {
    "email_sent": ("sent", "Emails sent", "activity"),
    "email_delivered": ("delivered", "Emails delivered", "activity"),
    "email_opens": ("opens", "Email opens", "response"),
    "email_clicks": ("clicks", "Email clicks", "response"),
    "email_replies": ("replies", "Email replies", "response"),
    "email_unsubscribes": ("unsubscribes", "Unsubscribes", "response"),
    "email_bounces": ("bounces", "Bounces", "response"),
}
# Counts that show the data reaches an audience (maturity level 1, "Reach").
REACH = {"email_sent", "social_mentions", "social_reach"}
SOCIAL_COUNTS = {
    "social_mentions": ("mentions", "Social mentions"),
    "social_shares": ("shares", "Social shares"),
    "social_comments": ("comments", "Social comments"),
    "social_reach": ("reach", "Social reach"),
    "branded_searches": ("branded_searches", "Branded searches"),
}


def _last_followers(frame: pd.DataFrame) -> float:
    """Followers is a stock: the last value per platform, summed over platforms."""
    rows = frame.dropna(subset=["followers"]).sort_values("date")
    if rows.empty:
        return float("nan")
    if "platform" in rows:
        return float(rows.groupby(rows["platform"].fillna(""))["followers"].last().sum())
    return float(rows["followers"].iloc[-1])


def followers(data: PeriodData, dimension: str | None):
    if dimension is not None:
        return None
    return _last_followers(data.rows("social", "date"))


def followers_growth(data: PeriodData, dimension: str | None):
    """Followers at the period's end against the last count before it."""
    if dimension is not None:
        return None
    social = data.tables["social"]
    before = _last_followers(social[social["date"] < pd.Timestamp(data.period.start)])
    now = _last_followers(data.rows("social", "date"))
    return float("nan") if not before else (now - before) / before


def spend_share(data: PeriodData, dimension: str | None):
    rows = data.rows("spend", "date")
    total = float(rows["cost"].sum())
    if total == 0:
        return float("nan") if dimension is None else None
    if dimension is None:
        return 1.0
    by_segment = data.total(rows, "spend", dimension, "cost")
    return None if by_segment is None else by_segment / total


def campaigns_run(data: PeriodData, dimension: str | None):
    """Distinct campaigns with spend or email sends in the period."""
    names = []
    for table in ("spend", "email"):
        if data.has(table, "campaign"):
            rows = data.rows(table, "date")
            columns = list(dict.fromkeys(["campaign", *([dimension] if dimension and dimension in rows else [])]))
            part = rows[columns].dropna(subset=["campaign"])
            if dimension and dimension != "campaign" and dimension in part and table == "spend":
                part = part.assign(**{dimension: part[dimension].fillna("(not set)")})
            names.append(part)
    if not names:
        return float("nan")
    frame = pd.concat(names, ignore_index=True).drop_duplicates()
    if dimension is None:
        return float(frame["campaign"].nunique())
    if dimension not in frame:
        return None
    return frame.groupby(dimension)["campaign"].nunique().astype(float).rename_axis(dimension)


def _impression_share_weight(data: PeriodData, dimension: str | None):
    rows = data.rows("spend", "date").dropna(subset=["impression_share"])
    weighted = rows.assign(_weighted=rows["impression_share"] * rows["cost"])
    return data.total(weighted, "spend", dimension, "_weighted")


METRICS = [
    *(
        Metric(
            metric_id,
            label,
            "count",
            f"Sum of email.{column} in the period.",
            compute=period_total("email", "date", column),
            needs=(f"email.{column}",),
            family=family,
            maturity=1 if metric_id in REACH else None,
        )
        for metric_id, (column, label, family) in EMAIL_COUNTS.items()
    ),
    Metric(
        "email_delivery_rate",
        "Email delivery rate",
        "percent",
        "Delivered / sent.",
        formula="email_delivered / email_sent",
        family="response",
    ),
    Metric(
        "email_open_rate",
        "Email open rate",
        "percent",
        "Opens / delivered.",
        formula="email_opens / email_delivered",
        family="response",
    ),
    Metric(
        "email_click_rate",
        "Email click rate",
        "percent",
        "Clicks / delivered.",
        formula="email_clicks / email_delivered",
        family="response",
    ),
    Metric(
        "email_reply_rate",
        "Email reply rate",
        "percent",
        "Replies / delivered.",
        formula="email_replies / email_delivered",
        family="response",
    ),
    Metric(
        "unsubscribe_rate",
        "Unsubscribe rate",
        "percent",
        "Unsubscribes / delivered.",
        formula="email_unsubscribes / email_delivered",
        family="response",
        direction="lower",
    ),
    Metric(
        "email_bounce_rate",
        "Email bounce rate",
        "percent",
        "Bounces / sent.",
        formula="email_bounces / email_sent",
        family="response",
        direction="lower",
    ),
    Metric(
        "sessions",
        "Sessions",
        "count",
        "Sum of web.sessions in the period.",
        compute=period_total("web", "date", "sessions"),
        needs=("web",),
        family="response",
        maturity=1,
    ),
    Metric(
        "users",
        "Users",
        "count",
        "Sum of web.users in the period (daily users added up).",
        compute=period_total("web", "date", "users"),
        needs=("web.users",),
        family="response",
    ),
    Metric(
        "new_users",
        "New users",
        "count",
        "Sum of web.new_users in the period.",
        compute=period_total("web", "date", "new_users"),
        needs=("web.new_users",),
        family="response",
    ),
    Metric(
        "pageviews",
        "Pageviews",
        "count",
        "Sum of web.pageviews in the period.",
        compute=period_total("web", "date", "pageviews"),
        needs=("web.pageviews",),
        family="response",
    ),
    Metric(
        "web_conversions",
        "Web conversions",
        "count",
        "Sum of web.conversions in the period.",
        compute=period_total("web", "date", "conversions"),
        needs=("web.conversions",),
        family="response",
    ),
    Metric(
        "conversion_rate",
        "Conversion rate (web)",
        "percent",
        "Web conversions / sessions.",
        formula="web_conversions / sessions",
        family="response",
    ),
    *(
        Metric(
            metric_id,
            label,
            "count",
            f"Sum of social.{column} in the period.",
            compute=period_total("social", "date", column),
            needs=(f"social.{column}",),
            family="response",
            maturity=1 if metric_id in REACH else None,
        )
        for metric_id, (column, label) in SOCIAL_COUNTS.items()
    ),
    Metric(
        "social_followers",
        "Social followers",
        "count",
        "Followers at the period's last report, summed over platforms.",
        compute=followers,
        needs=("social.followers",),
        family="response",
        aggregation="level",
    ),
    Metric(
        "followers_growth",
        "Followers growth",
        "percent",
        "Followers at the period's end / followers at the last report before the period − 1.",
        compute=followers_growth,
        needs=("social.followers",),
        family="response",
        aggregation="level",
    ),
    Metric(
        "impression_share_cost",
        "Cost of impression-share-reporting spend",
        "currency",
        "Sum of spend.cost over rows that report impression_share.",
        compute=period_total("spend", "date", "cost", where="impression_share"),
        needs=("spend.impression_share",),
        family="internal",
        direction="neutral",
    ),
    Metric(
        "impression_share_weighted",
        "Impression share × cost",
        "currency",
        "Sum of impression_share × cost (numerator of the spend-weighted impression share).",
        compute=_impression_share_weight,
        needs=("spend.impression_share",),
        family="internal",
        direction="neutral",
    ),
    Metric(
        "impression_share",
        "Impression share (spend-weighted)",
        "percent",
        "Average of spend.impression_share weighted by cost, over rows that report it.",
        formula="impression_share_weighted / impression_share_cost",
        family="response",
    ),
    Metric(
        "spend_share",
        "Share of spend",
        "percent",
        "A segment's spend / all spend in the period.",
        compute=spend_share,
        needs=("spend",),
        family="efficiency",
        direction="neutral",
        aggregation="share",
    ),
    Metric(
        "campaigns_run",
        "Campaigns run",
        "count",
        "Distinct campaigns with spend or email sends in the period.",
        compute=campaigns_run,
        needs=("spend.campaign|email",),
        family="activity",
        aggregation="level",
    ),
]


@hookimpl
def register_metrics(register):
    for metric in METRICS:
        register(metric)
