"""Attribution on loaded tables, shared by ``roistory run`` and ``roistory attribute``.

Which models a name list selects (with the did-you-mean hint), journeys per
dimension under the lookback and dormancy rules, each model's credits with the
conversions that had no touchpoint as their own segment (so totals add up), the
findings on what journey building left out, and the JSON attribution records.
One copy of each rule and message, whichever command runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from roistory.attribution import (
    NO_TOUCHPOINTS,
    AttributionError,
    AttributionModel,
    Journeys,
    JourneyStats,
    build_journeys,
    resolve_params,
    run_model,
)
from roistory.errors import PluginError, unknown_name
from roistory.quality import Finding

if TYPE_CHECKING:
    from roistory.config import AttributionConfig
    from roistory.registry import Registry

Window = tuple[pd.Timestamp, pd.Timestamp]  # [start, end): conversions dated in it


def check_models(
    names: list[str],
    params: dict[str, dict[str, Any]],
    registry: Registry,
    *,
    key: Callable[[int], str] = lambda i: f"attribution.models[{i}]",
) -> list[AttributionModel]:
    """The registered models ``names`` selects; bad parameters fail here, before any data is read.

    ``key(i)`` names the config key (or option) of the i-th name in error messages.
    """
    known = list(registry.models)
    for i, name in enumerate(names):
        if name not in registry.models:
            raise unknown_name("attribution model", name, known, key(i))
    for name in params:
        if name not in registry.models:
            raise unknown_name("attribution model", name, known, f"attribution.params.{name}")
    models = [registry.models[name] for name in names]
    for model in models:
        resolve_params(model, params.get(model.id))
    return models


def journeys_by_dimension(
    touchpoints: pd.DataFrame,
    events: pd.DataFrame,
    dimensions: Iterable[str],
    settings: AttributionConfig,
) -> dict[str, tuple[Journeys, JourneyStats]]:
    """Touchpoints cut into journeys once per dimension the touchpoints carry."""
    return {
        dimension: build_journeys(
            touchpoints,
            events,
            dimension=dimension,
            lookback_days=settings.lookback_days,
            dormancy_days=settings.dormancy_days,
        )
        for dimension in dimensions
        if dimension in touchpoints
    }


def _in_window(frame: pd.DataFrame, window: Window | None) -> pd.DataFrame:
    if window is None:
        return frame
    start, end = window
    return frame[(frame["timestamp"] >= start) & (frame["timestamp"] < end)]


def model_credits(
    model: AttributionModel,
    journeys: Journeys,
    stats: JourneyStats,
    params: dict[str, Any] | None,
    *,
    provider: str,
    window: Window | None = None,
) -> pd.DataFrame:
    """A model's credit per segment for the journeys ending in ``window`` (all when None).

    Non-converting journeys go to the model too: Markov and Shapley learn from
    paths that did not convert. Conversions that had no touchpoint are the
    ``NO_TOUCHPOINTS`` segment, so segment revenue adds up to total revenue.
    ``provider`` names the plugin blamed when the model breaks conservation.
    """
    if window is not None:
        journeys = journeys.ending_between(*window)
    try:
        credits = run_model(model, journeys, params)
    except AttributionError as exc:
        raise PluginError(f"plugin '{provider}': {exc}") from None
    orphans = _in_window(stats.unattributed, window)
    if len(orphans):
        extra = pd.DataFrame(
            {"conversions": [float(len(orphans))], "revenue": [float(orphans["revenue"].sum())]},
            index=pd.Index([NO_TOUCHPOINTS], name="segment"),
        )
        credits = pd.concat([credits, extra])
    return credits


def journey_findings(
    stats: JourneyStats,
    settings: AttributionConfig,
    money: Callable[[float], str],
    window: Window | None = None,
) -> list[Finding]:
    """What journey building left out: conversions without touchpoints, touches beyond the
    lookback, journeys restarted after dormancy. ``window`` is the report period, if any."""
    findings = []
    orphans = stats.unattributed
    if len(orphans):
        in_window = _in_window(orphans, window)
        revenue = money(float(in_window["revenue"].sum()))
        scope = f"{len(in_window)} in this period, {revenue}" if window is not None else revenue
        findings.append(
            Finding(
                "warning",
                "conversions_without_touchpoints",
                len(orphans),
                f"{len(orphans)} conversions had no touchpoint in the {settings.lookback_days}-day "
                f"lookback ({scope}); "
                f"they are shown as '{NO_TOUCHPOINTS}' rather than credited to a channel",
            )
        )
    if stats.touches_beyond_lookback:
        findings.append(
            Finding(
                "info",
                "touchpoints_beyond_lookback",
                stats.touches_beyond_lookback,
                f"{stats.touches_beyond_lookback} touchpoints came more than "
                f"{settings.lookback_days} days before their conversion and get no credit",
            )
        )
    if stats.reengaged_journeys:
        findings.append(
            Finding(
                "info",
                "reengaged_after_dormancy",
                stats.reengaged_journeys,
                f"{stats.reengaged_journeys} journeys restarted after more than "
                f"{settings.dormancy_days} days of inactivity (re-engagement rule)",
            )
        )
    return findings


def attribution_records(credits: dict[str, dict[str, pd.DataFrame]]) -> list[dict[str, Any]]:
    """The JSON ``attribution`` list: model -> dimension -> credits, one record per segment."""
    records = []
    for model, by_dimension in credits.items():
        for dimension, frame in by_dimension.items():
            for segment, row in frame.iterrows():
                records.append(
                    {
                        "model": model,
                        "segment": {dimension: segment},
                        "conversions": float(row["conversions"]),
                        "revenue": float(row["revenue"]),
                    }
                )
    return records
