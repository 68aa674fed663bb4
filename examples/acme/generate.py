"""Generate the fictional "Acme Analytics" example data set.

Acme Analytics sells a B2B analytics platform on annual contracts (5,000 to
60,000 USD a year). Its marketing team buys Google search ads, Meta and
LinkedIn ads and programmatic display, sends email, publishes content and runs
a webinar series plus a few conferences. Every lead starts with a form fill,
goes through the sales funnel (MQL, SQL, opportunity) and is won or lost 20 to
90 days later. This script simulates 14 months of that (September 2025 to
October 2026) and writes the exports a marketing analyst would collect:

    google_ads.csv, meta_ads.csv, linkedin_ads.csv   ad platform exports (own headers)
    other_spend.csv                                   Display, Email, Events, Content costs
    touchpoints.csv                                   every tracked interaction per person
    leads.csv                                         the CRM lead and deal export
    conversions.csv                                   one row per won deal
    customers.csv                                     subscriptions, including churned ones

The story the report should tell for October 2026:

* LinkedIn Ads is the turnaround. From March 2026 budget moved from generic
  sponsored content to account-based campaigns and lead-gen forms; since then
  each LinkedIn dollar buys more and better leads, and its ROI has climbed
  from clearly negative a year ago to the best of the paid channels.
* Display is wasting money. Its budget has more than doubled, it produces
  leads that almost never buy, and its ROI is close to -100%.
* The "Data Summit 2026" conference made September the most expensive month;
  most of its pipeline is still open at the end of October, a reminder that
  event revenue lags event spend.
* Overall, October 2026 returns more revenue per marketing dollar than
  September 2026 and than October 2025.

The data has a few deliberate quality problems for the report to find:
duplicate leads (the same email address in a different case or with spaces),
touchpoints of visitors who never became a lead, and a handful of partner
deals registered straight in the CRM with no tracked touchpoints.

Run it from anywhere with ``python examples/acme/generate.py``; it overwrites
the CSV files in ``examples/acme/data/``. The output depends only on SEED, so
two runs produce byte-identical files. The story comes from the parameters
below; SEED was picked among a few so that the random noise does not blur it.
Change anything and the numbers move, so re-check the story after an edit.
"""

from __future__ import annotations

import calendar
import csv
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

SEED = 62
DATA_DIR = Path(__file__).resolve().parent / "data"

FIRST_DAY = date(2025, 9, 1)
LAST_DAY = date(2026, 10, 31)
MONTHS = [date(2025 + (8 + i) // 12, (8 + i) % 12 + 1, 1) for i in range(14)]


def month_index(day: date) -> int:
    """Position of the month of ``day`` in MONTHS (0 = September 2025)."""
    return (day.year - FIRST_DAY.year) * 12 + day.month - FIRST_DAY.month


def ramp(first: float, last: float, index: int) -> float:
    """Linear change from ``first`` (September 2025) to ``last`` (October 2026)."""
    return first + (last - first) * index / (len(MONTHS) - 1)


def days_of_month(month: date) -> list[date]:
    count = calendar.monthrange(month.year, month.month)[1]
    return [month + timedelta(days=d) for d in range(count)]


# --------------------------------------------------------------------------
# Marketing plan
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Campaign:
    channel: str
    name: str
    budget_first: float  # monthly budget in September 2025, USD
    budget_last: float  # monthly budget in October 2026, USD
    launched: date = FIRST_DAY

    def budget(self, month: date) -> float:
        if month < self.launched.replace(day=1):
            return 0.0
        return ramp(self.budget_first, self.budget_last, month_index(month))


# Ad platform campaigns: spend every day, a little less at weekends.
AD_CAMPAIGNS = [
    Campaign("Paid Search", "Brand - Acme", 5500, 6500),
    Campaign("Paid Search", "Generic - Analytics Platform", 12000, 14500),
    Campaign("Paid Search", "Generic - BI Dashboards", 6000, 6500),
    Campaign("Paid Search", "Competitor - Conquest", 4000, 5000),
    Campaign("Paid Social", "Prospecting - Lookalike", 6000, 6500),
    Campaign("Paid Social", "Retargeting - Site Visitors", 3000, 3500),
    Campaign("Paid Social", "Video - Product Tour", 2500, 3000),
    Campaign("LinkedIn Ads", "Sponsored Content - ROI Guide", 7000, 3000),
    Campaign("LinkedIn Ads", "ABM - Enterprise Accounts", 3000, 9000),
    Campaign("LinkedIn Ads", "Lead Gen Form - Data Leaders", 3000, 6000, date(2026, 3, 1)),
    Campaign("Display", "Programmatic - Prospecting", 4000, 11000),
    Campaign("Display", "Retargeting - Display", 2000, 4000),
    Campaign("Display", "Network Partners", 1000, 5000),
]

# Email tooling and content production: invoiced every Monday.
WEEKLY_CAMPAIGNS = [
    Campaign("Email", "Newsletter", 2500, 3000),
    Campaign("Email", "Nurture - Product Trial", 3000, 3500),
    Campaign("Email", "Product Updates", 1200, 1500),
    Campaign("Content", "SEO Articles", 5000, 6000),
    Campaign("Content", "Customer Stories", 2500, 3000),
    Campaign("Content", "Analyst Report", 2000, 2500),
]

# Events: one webinar a month (first Thursday) and a few big conferences.
WEBINAR = "Webinar Series"
CONFERENCES = [
    (date(2025, 9, 17), "Data Summit 2025", 30000.0),
    (date(2026, 3, 11), "Analytics World Tour", 24000.0),
    (date(2026, 6, 9), "Partner Roadshow", 15000.0),
    (date(2026, 9, 9), "Data Summit 2026", 38000.0),
]

# Cost per click and click-through rate, for the ad platform exports.
AD_METRICS = {
    "Paid Search": (4.50, 0.045),
    "Paid Social": (1.80, 0.009),
    "LinkedIn Ads": (7.50, 0.0055),
    "Display": (2.40, 0.0012),
}

# Cost per lead (USD) for paid channels: (September 2025, October 2026).
COST_PER_LEAD = {
    "Paid Search": (320, 300),
    "Paid Social": (430, 420),
    "LinkedIn Ads": (600, 240),
    "Display": (420, 480),
    "Email": (220, 220),
    "Content": (280, 270),
    "Events": (300, 280),
}

# Leads per month from channels without spend: (September 2025, October 2026).
FREE_LEADS = {"Organic Search": (40, 52), "Direct": (18, 24), "Referral": (9, 12)}
FREE_CAMPAIGNS = {
    "Organic Search": [""],
    "Direct": [""],
    "Referral": ["Partner Program", "Review Sites"],
}

# Lead quality scales the MQL and win rates: (September 2025, October 2026).
QUALITY = {
    "Paid Search": (1.1, 1.1),
    "Paid Social": (0.9, 0.9),
    "LinkedIn Ads": (0.6, 1.6),
    "Display": (0.15, 0.15),
    "Email": (1.0, 1.0),
    "Content": (0.9, 0.9),
    "Events": (1.0, 1.0),
    "Organic Search": (1.0, 1.0),
    "Direct": (1.3, 1.3),
    "Referral": (1.5, 1.5),
}

# Deal size relative to MEDIAN_DEAL: LinkedIn and events reach bigger companies.
DEAL_SIZE = {"LinkedIn Ads": 1.4, "Events": 1.1, "Referral": 1.2, "Display": 0.7}
MEDIAN_DEAL = 16000

# Funnel conversion rates for a lead of quality 1.0.
MQL_RATE = 0.42
SQL_RATE = 0.42
OPPORTUNITY_RATE = 0.62
WIN_RATE = 0.32

# Channels of the other touches before the form (besides the source channel itself)
# and after it, while sales works the lead.
ASSIST_CHANNELS = {
    "Organic Search": 0.30,
    "Direct": 0.20,
    "Content": 0.20,
    "Email": 0.15,
    "Paid Search": 0.10,
    "Display": 0.05,
}
NURTURE_CHANNELS = {"Email": 0.5, "Direct": 0.2, "Organic Search": 0.2, "Events": 0.1}
NURTURE_CAMPAIGNS = {
    "Email": ["Nurture - Product Trial", "Newsletter", "Product Updates"],
    "Events": [WEBINAR],
}

CHURN_PER_MONTH = 0.015
EARLIER_CUSTOMERS = 160  # customers who signed up before 2025
DUPLICATE_LEADS = 20
ORPHAN_VISITORS = 25  # two touches each
PARTNER_DEALS = 5  # won deals with no touchpoints

FIRST_NAMES = """Ava Ben Chloe Daniel Emma Felix Grace Hugo Isla Jack Kai Lena Maya Noah
Olivia Priya Quinn Rosa Sam Tara Umar Vera Wei Xenia Yara Zoe Aaron Bianca Carlos Dana
Elif Farah Gabriel Hana Ivan Julia Kenji Laura Mateo Nina""".split()
LAST_NAMES = """Anders Baker Chen Diaz Evans Fischer Garcia Hansen Ito Jensen Kim Lopez
Meyer Novak Okafor Patel Quinn Rossi Silva Tanaka Usman Varga Wagner Xu Young Zimmer
Adams Brooks Costa Dubois Eriksen Ferreira Gupta Horvat Ibrahim Jones Kowalski Larsen
Moreau Nguyen""".split()
COMPANY_WORDS = """Blue North Bright Cedar Delta Ember Falcon Granite Harbor Iris Juniper
Kestrel Lumen Maple Nimbus Orbit Pine Quartz River Summit Tidal Vertex Willow Zephyr""".split()
COMPANY_KINDS = """Logistics Health Retail Foods Energy Bank Insurance Media Robotics Travel
Labs Software Telecom Pharma Motors Apparel Capital Systems Analytics Networks""".split()


# --------------------------------------------------------------------------
# Spend
# --------------------------------------------------------------------------


@dataclass
class SpendRow:
    day: date
    channel: str
    campaign: str
    cost: float
    impressions: int = 0
    clicks: int = 0


def ad_spend(rng: np.random.Generator) -> list[SpendRow]:
    rows = []
    for campaign in AD_CAMPAIGNS:
        cpc, ctr = AD_METRICS[campaign.channel]
        for month in MONTHS:
            budget = campaign.budget(month) * rng.lognormal(0.0, 0.03)  # imperfect pacing
            if budget == 0:
                continue
            days = days_of_month(month)
            weights = np.array([0.55 if d.weekday() >= 5 else 1.0 for d in days])
            weights *= rng.lognormal(0.0, 0.2, len(days))
            for day, weight in zip(days, weights / weights.sum(), strict=True):
                cost = round(budget * weight, 2)
                clicks = int(rng.poisson(cost / cpc))
                impressions = int(clicks / ctr * rng.lognormal(0.0, 0.1)) + clicks
                rows.append(
                    SpendRow(day, campaign.channel, campaign.name, cost, impressions, clicks)
                )
    return rows


def other_spend(rng: np.random.Generator) -> list[SpendRow]:
    rows = []
    for campaign in WEEKLY_CAMPAIGNS:
        for month in MONTHS:
            mondays = [d for d in days_of_month(month) if d.weekday() == 0]
            for monday in mondays:
                cost = campaign.budget(month) / len(mondays) * rng.lognormal(0.0, 0.1)
                rows.append(SpendRow(monday, campaign.channel, campaign.name, round(cost, 2)))
    for month in MONTHS:
        first_thursday = next(d for d in days_of_month(month) if d.weekday() == 3)
        cost = ramp(2000, 3000, month_index(month)) * rng.lognormal(0.0, 0.1)
        rows.append(SpendRow(first_thursday, "Events", WEBINAR, round(cost, 2)))
    for day, name, cost in CONFERENCES:
        rows.append(SpendRow(day, "Events", name, cost))
    return rows


# --------------------------------------------------------------------------
# Leads and their journeys
# --------------------------------------------------------------------------


@dataclass
class Lead:
    created: datetime
    channel: str
    campaign: str
    company: str
    first_name: str
    last_name: str
    quality: float
    person_id: str = ""
    lead_id: str = ""
    email: str = ""
    mql: date | None = None
    sql: date | None = None
    opportunity: date | None = None
    won: date | None = None
    lost: date | None = None
    amount: float | None = None
    tracked: bool = True  # False: no touchpoints (deal registered in the CRM)


def choose(rng: np.random.Generator, items: list):
    """One item of ``items``, uniformly at random."""
    return items[int(rng.integers(len(items)))]


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def random_time(rng: np.random.Generator, day: date, first_hour: int = 8, last_hour: int = 20):
    """A moment on ``day`` between the two hours, to the second."""
    return midnight(day) + timedelta(seconds=int(rng.integers(first_hour * 3600, last_hour * 3600)))


def lead_origins(rng: np.random.Generator, spend: list[SpendRow]) -> list[tuple[date, str, str]]:
    """(day, channel, campaign) of every lead: paid channels in proportion to spend."""
    origins = []
    by_channel_month: dict[tuple[str, int], list[SpendRow]] = {}
    for row in spend:
        by_channel_month.setdefault((row.channel, month_index(row.day)), []).append(row)

    for (channel, index), rows in by_channel_month.items():
        costs = np.array([row.cost for row in rows])
        cpl = ramp(*COST_PER_LEAD[channel], index)
        for _ in range(rng.poisson(costs.sum() / cpl)):
            row = rows[rng.choice(len(rows), p=costs / costs.sum())]
            if channel == "Events":
                day = row.day + timedelta(days=int(rng.integers(0, 2)))
            elif channel in ("Email", "Content"):
                day = choose(rng, days_of_month(MONTHS[index]))
            else:
                day = row.day
            origins.append((day, channel, row.campaign))

    for channel, (first, last) in FREE_LEADS.items():
        for index, month in enumerate(MONTHS):
            for _ in range(rng.poisson(ramp(first, last, index))):
                day = choose(rng, days_of_month(month))
                origins.append((day, channel, choose(rng, FREE_CAMPAIGNS[channel])))
    return origins


def deal_amount(rng: np.random.Generator, channel: str) -> float:
    """Annual contract value in USD, rounded to 500."""
    size = MEDIAN_DEAL * DEAL_SIZE.get(channel, 1.0) * rng.lognormal(0.0, 0.4)
    return float(np.clip(round(size / 500) * 500, 5000, 60000))


def run_funnel(rng: np.random.Generator, lead: Lead) -> None:
    """Move the lead through the funnel; dates after the export are removed later."""
    created = lead.created.date()
    if rng.random() >= min(0.8, MQL_RATE * lead.quality):
        return
    lead.mql = created + timedelta(days=int(rng.integers(0, 6)))
    if rng.random() >= SQL_RATE:
        return
    lead.sql = lead.mql + timedelta(days=int(rng.integers(2, 13)))
    if rng.random() >= OPPORTUNITY_RATE:
        return
    lead.opportunity = lead.sql + timedelta(days=int(rng.integers(3, 15)))
    lead.amount = deal_amount(rng, lead.channel)
    shortest = max(20, (lead.opportunity - created).days + 5)
    closed = created + timedelta(days=min(90, shortest + int(rng.exponential(20))))
    if rng.random() < min(0.7, WIN_RATE * lead.quality):
        lead.won = closed
    else:
        lead.lost = closed


STAGES = ("mql", "sql", "opportunity", "won", "lost")


def cut_at_export(lead: Lead) -> None:
    """Forget funnel steps that happen after the export date."""
    for stage in STAGES:
        if getattr(lead, stage) is not None and getattr(lead, stage) > LAST_DAY:
            setattr(lead, stage, None)
    if lead.opportunity is None:
        lead.amount = None


def new_lead(rng: np.random.Generator, day: date, channel: str, campaign: str) -> Lead:
    return Lead(
        created=random_time(rng, day),
        channel=channel,
        campaign=campaign,
        company=f"{choose(rng, COMPANY_WORDS)} {choose(rng, COMPANY_KINDS)}",
        first_name=choose(rng, FIRST_NAMES),
        last_name=choose(rng, LAST_NAMES),
        quality=ramp(*QUALITY[channel], month_index(day)),
    )


def partner_deal(rng: np.random.Generator) -> Lead:
    """A deal a partner brought to sales: entered in the CRM, won, never tracked online."""
    latest_start = (LAST_DAY - FIRST_DAY).days - 90
    lead = new_lead(
        rng,
        FIRST_DAY + timedelta(days=int(rng.integers(0, latest_start))),
        "Referral",
        "Partner Program",
    )
    created = lead.created.date()
    lead.mql = lead.sql = created
    lead.opportunity = created + timedelta(days=int(rng.integers(1, 8)))
    lead.amount = deal_amount(rng, lead.channel)
    lead.won = created + timedelta(days=int(rng.integers(20, 91)))
    lead.tracked = False
    return lead


def make_leads(rng: np.random.Generator, spend: list[SpendRow]) -> list[Lead]:
    leads = []
    for day, channel, campaign in lead_origins(rng, spend):
        lead = new_lead(rng, day, channel, campaign)
        run_funnel(rng, lead)
        cut_at_export(lead)
        leads.append(lead)
    leads += [partner_deal(rng) for _ in range(PARTNER_DEALS)]

    leads.sort(key=lambda lead: lead.created)
    used_emails: set[str] = set()
    for number, lead in enumerate(leads, start=1):
        lead.person_id = f"P-{number:06d}"
        lead.lead_id = f"L-{number:06d}"
        lead.email = unique_email(lead, used_emails)
    return leads


def unique_email(lead: Lead, used: set[str]) -> str:
    domain = lead.company.lower().replace(" ", "-") + ".example"
    local = f"{lead.first_name}.{lead.last_name}".lower()
    email, number = f"{local}@{domain}", 1
    while email in used:
        number += 1
        email = f"{local}{number}@{domain}"
    used.add(email)
    return email


def duplicate_leads(rng: np.random.Generator, leads: list[Lead]) -> list[Lead]:
    """The same person submitted twice: a second, untouched lead with a messy email."""
    messy = [str.upper, lambda e: f" {e} ", lambda e: e.title() + " "]
    duplicates = []
    for i, index in enumerate(sorted(rng.choice(len(leads), DUPLICATE_LEADS, replace=False))):
        original = leads[index]
        duplicates.append(
            Lead(
                created=original.created + timedelta(minutes=int(rng.integers(1, 30))),
                channel=original.channel,
                campaign=original.campaign,
                company=original.company,
                first_name=original.first_name,
                last_name=original.last_name,
                quality=original.quality,
                person_id=original.person_id,
                lead_id=f"L-{len(leads) + i + 1:06d}",
                email=messy[i % len(messy)](original.email),
            )
        )
    return duplicates


def interaction(rng: np.random.Generator, channel: str) -> str:
    if channel == "Paid Search":
        return "click"
    if channel in ("Paid Social", "LinkedIn Ads"):
        return "click" if rng.random() < 0.6 else "impression"
    if channel == "Display":
        return "impression" if rng.random() < 0.85 else "click"
    if channel == "Email":
        return "email_open" if rng.random() < 0.5 else "email_click"
    if channel == "Events":
        return "event"
    return "visit"


def pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    names = list(weights)
    probabilities = np.array(list(weights.values()))
    return names[rng.choice(len(names), p=probabilities / probabilities.sum())]


def some_campaign(rng: np.random.Generator, channel: str, when: datetime) -> str:
    """A campaign of ``channel`` that was running at ``when``."""
    if channel in NURTURE_CAMPAIGNS:
        return choose(rng, NURTURE_CAMPAIGNS[channel])
    if channel in FREE_CAMPAIGNS:
        return choose(rng, FREE_CAMPAIGNS[channel])
    month = MONTHS[month_index(when.date())]
    running = [
        c.name
        for c in AD_CAMPAIGNS + WEEKLY_CAMPAIGNS
        if c.channel == channel and c.budget(month) > 0
    ]
    return choose(rng, running)


def journey(rng: np.random.Generator, lead: Lead) -> list[tuple[datetime, str, str, str]]:
    """The lead's touches: (timestamp, channel, campaign, interaction), 1 to 8 of them."""
    touches = []
    start_of_data = midnight(FIRST_DAY)
    end_of_data = midnight(LAST_DAY + timedelta(days=1)) - timedelta(seconds=1)

    # Before the form: the first touch (the lead's source) and a few assists.
    before_form = int(rng.choice(4, p=[0.1, 0.3, 0.3, 0.3]))
    if before_form:
        if lead.channel == "Events":  # met at the booth, form filled the same day
            minutes = rng.integers(30, 6 * 60)
        else:  # days or weeks of research before asking for a demo
            minutes = 60 + min(rng.exponential(10 * 24 * 60), 45 * 24 * 60)
        since_start = (lead.created - start_of_data).total_seconds() / 60
        first = lead.created - timedelta(minutes=int(min(minutes, since_start / 2)))
        touches.append((first, lead.channel, lead.campaign, interaction(rng, lead.channel)))
        span = (lead.created - first).total_seconds()
        for share in sorted(rng.uniform(0.05, 0.95, before_form - 1)):
            when = first + timedelta(seconds=int(share * span))
            if rng.random() < 0.5:
                channel, campaign = lead.channel, lead.campaign
            else:
                channel = pick(rng, ASSIST_CHANNELS)
                campaign = some_campaign(rng, channel, when)
            touches.append((when, channel, campaign, interaction(rng, channel)))

    # The form fill that created the lead: on the source channel or the website.
    if not before_form or rng.random() < 0.6:
        form_channel, form_campaign = lead.channel, lead.campaign
    else:
        form_channel, form_campaign = choose(rng, ["Direct", "Organic Search"]), ""
    touches.append((lead.created, form_channel, form_campaign, "form"))

    # After the form: nurture until the deal closes (touches stay before the win).
    if lead.won:
        until = midnight(lead.won)
    else:
        until = min(end_of_data, lead.created + timedelta(days=60))
        if lead.lost:
            until = min(until, midnight(lead.lost))
    span = (until - lead.created).total_seconds()
    if span > 2 * 24 * 3600:
        after_form = int(rng.choice(5, p=[0.1, 0.2, 0.25, 0.25, 0.2]))
        for share in sorted(rng.uniform(0.02, 0.98, after_form)):
            when = lead.created + timedelta(seconds=int(share * span))
            if rng.random() < 0.5 and lead.channel not in FREE_LEADS:  # retargeting, follow-ups
                channel, campaign = lead.channel, lead.campaign
            else:
                channel = pick(rng, NURTURE_CHANNELS)
                campaign = some_campaign(rng, channel, when)
            touches.append((when, channel, campaign, interaction(rng, channel)))
    return touches


def orphan_touches(rng: np.random.Generator) -> list[tuple[str, datetime, str, str, str]]:
    """Visitors tracked on the website that match no lead."""
    rows = []
    days = (LAST_DAY - FIRST_DAY).days
    for number in range(1, ORPHAN_VISITORS + 1):
        person = f"P-9{number:05d}"
        first = random_time(rng, FIRST_DAY + timedelta(days=int(rng.integers(0, days - 7))))
        for when in (first, first + timedelta(hours=int(rng.integers(12, 7 * 24)))):
            channel = pick(rng, ASSIST_CHANNELS)
            rows.append(
                (
                    person,
                    when,
                    channel,
                    some_campaign(rng, channel, when),
                    interaction(rng, channel),
                )
            )
    return rows


# --------------------------------------------------------------------------
# Customers
# --------------------------------------------------------------------------


def churn_date(rng: np.random.Generator, start: date) -> date | None:
    """End date if the customer churns before the export, checked month by month."""
    for month in MONTHS:
        if month > start and rng.random() < CHURN_PER_MONTH:
            return choose(rng, days_of_month(month))
    return None


def make_customers(rng: np.random.Generator, won: list[Lead]) -> list[tuple]:
    customers = []
    channels = list(QUALITY)
    for _ in range(EARLIER_CUSTOMERS):
        start = date(2021, 1, 1) + timedelta(days=int(rng.integers(0, 4 * 365)))
        mrr = round(float(np.clip(rng.lognormal(np.log(1500), 0.5), 400, 5000)), 2)
        channel = choose(rng, channels)
        customers.append((start, churn_date(rng, start), mrr, channel))
    for lead in won:
        customers.append(
            (lead.won, churn_date(rng, lead.won), round(lead.amount / 12, 2), lead.channel)
        )
    customers.sort(key=lambda customer: customer[0])
    return [(f"C-{n:06d}", *customer) for n, customer in enumerate(customers, start=1)]


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------


def iso(value: date | None) -> str:
    return value.isoformat() if value else ""


def money(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def write_csv(name: str, header: list[str], rows) -> None:
    with open(DATA_DIR / name, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


AD_EXPORTS = {
    "Paid Search": ("google_ads.csv", ["Day", "Campaign", "Impressions", "Clicks", "Cost"]),
    "Paid Social": (
        "meta_ads.csv",
        ["Reporting starts", "Campaign name", "Impressions", "Link clicks", "Amount spent (USD)"],
    ),
    "LinkedIn Ads": (
        "linkedin_ads.csv",
        ["Start Date (in UTC)", "Campaign Name", "Impressions", "Clicks", "Total Spent"],
    ),
}


def write_spend(spend: list[SpendRow]) -> None:
    spend = sorted(spend, key=lambda row: (row.day, row.channel, row.campaign))
    for channel, (name, header) in AD_EXPORTS.items():
        rows = [row for row in spend if row.channel == channel]
        write_csv(
            name,
            header,
            [(iso(r.day), r.campaign, r.impressions, r.clicks, money(r.cost)) for r in rows],
        )
    rows = [row for row in spend if row.channel not in AD_EXPORTS]
    write_csv(
        "other_spend.csv",
        ["date", "channel", "campaign", "cost"],
        [(iso(r.day), r.channel, r.campaign, money(r.cost)) for r in rows],
    )


def write_touchpoints(rng: np.random.Generator, leads: list[Lead]) -> None:
    touches = orphan_touches(rng)
    for lead in leads:
        if lead.tracked:
            touches += [(lead.person_id, *touch) for touch in journey(rng, lead)]
    touches.sort(key=lambda touch: (touch[1], touch[0]))
    write_csv(
        "touchpoints.csv",
        ["person_id", "timestamp", "channel", "campaign", "interaction"],
        [(person, when.isoformat(), *rest) for person, when, *rest in touches],
    )


def write_leads(leads: list[Lead]) -> None:
    header = [
        "lead_id", "created_at", "person_id", "email", "company", "source_channel",
        "source_campaign", "mql_at", "sql_at", "opportunity_at", "won_at", "lost_at", "amount",
    ]  # fmt: skip
    rows = []
    for lead in sorted(leads, key=lambda lead: (lead.created, lead.lead_id)):
        stages = [iso(getattr(lead, stage)) for stage in STAGES]
        rows.append(
            [lead.lead_id, iso(lead.created.date()), lead.person_id, lead.email, lead.company]
            + [lead.channel, lead.campaign, *stages, money(lead.amount)]
        )
    write_csv("leads.csv", header, rows)


def write_conversions(rng: np.random.Generator, won: list[Lead]) -> None:
    rows = []
    for number, lead in enumerate(won, start=1):
        when = random_time(rng, lead.won, 9, 18)
        rows.append(
            (lead.person_id, when.isoformat(), money(lead.amount), "closed_won", f"D-{number:06d}")
        )
    write_csv(
        "conversions.csv", ["person_id", "timestamp", "revenue", "conversion_type", "deal_id"], rows
    )


def write_customers(rng: np.random.Generator, won: list[Lead]) -> None:
    rows = [
        (customer_id, iso(start), iso(end), money(mrr), channel)
        for customer_id, start, end, mrr, channel in make_customers(rng, won)
    ]
    write_csv(
        "customers.csv",
        ["customer_id", "start_date", "end_date", "mrr", "acquisition_channel"],
        rows,
    )


def email_sends(rng: np.random.Generator) -> list[tuple]:
    """Weekly sends per email programme; engagement improves slowly as the list is cleaned."""
    rows = []
    lists = {"Newsletter": 9000, "Nurture - Product Trial": 2500, "Product Updates": 6000}
    day = FIRST_DAY
    while day <= LAST_DAY:
        if day.weekday() == 1:  # Tuesdays
            index = month_index(day)
            for campaign, size in lists.items():
                sent = int(size * ramp(1.0, 1.35, index) * rng.uniform(0.95, 1.05))
                bounces = int(sent * rng.uniform(0.008, 0.02))
                delivered = sent - bounces
                opens = int(delivered * ramp(0.22, 0.29, index) * rng.uniform(0.9, 1.1))
                clicks = int(opens * rng.uniform(0.08, 0.14))
                rows.append((iso(day), campaign, sent, delivered, opens, clicks, int(clicks * rng.uniform(0.02, 0.06)),
                             int(delivered * rng.uniform(0.001, 0.004)), bounces))
        day += timedelta(days=1)
    return rows


def web_traffic(rng: np.random.Generator) -> list[tuple]:
    """Daily sessions by channel, as a web analytics export summarises them."""
    base = {"Organic Search": 900, "Direct": 500, "Paid Search": 420, "Paid Social": 260, "LinkedIn Ads": 90,
            "Email": 150, "Referral": 110, "Display": 160}
    rows = []
    day = FIRST_DAY
    while day <= LAST_DAY:
        index = month_index(day)
        weekday = 0.7 if day.weekday() >= 5 else 1.0
        for channel, sessions in base.items():
            growth = ramp(1.0, 1.6, index) if channel == "LinkedIn Ads" else ramp(1.0, 1.15, index)
            count = int(sessions * growth * weekday * rng.uniform(0.85, 1.15))
            users = int(count * rng.uniform(0.7, 0.85))
            rate = 0.0005 if channel == "Display" else rng.uniform(0.008, 0.02)
            rows.append((iso(day), channel, count, users, int(users * rng.uniform(0.4, 0.6)), int(count * rate),
                         int(count * rng.uniform(2.1, 3.4))))
        day += timedelta(days=1)
    return rows


def main() -> None:
    rng = np.random.default_rng(SEED)
    DATA_DIR.mkdir(parents=True, exist_ok=True)

    spend = ad_spend(rng) + other_spend(rng)
    write_spend(spend)

    leads = make_leads(rng, spend)
    write_touchpoints(rng, leads)
    write_leads(leads + duplicate_leads(rng, leads))

    won = sorted((lead for lead in leads if lead.won), key=lambda lead: (lead.won, lead.lead_id))
    write_conversions(rng, won)
    write_customers(rng, won)

    # A second generator, so adding these tables left the story above unchanged.
    extra = np.random.default_rng(SEED + 1)
    write_csv(
        "email.csv",
        ["date", "campaign", "sent", "delivered", "opens", "clicks", "replies", "unsubscribes", "bounces"],
        email_sends(extra),
    )
    write_csv("web.csv", ["date", "channel", "sessions", "users", "new_users", "conversions", "pageviews"], web_traffic(extra))


if __name__ == "__main__":
    main()
