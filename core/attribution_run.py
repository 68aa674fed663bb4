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
    resolve_params,
    run_model,
    with_orphans,
)
from roistory.engines import journeys_for
from roistory.errors import PluginError, unknown_name
from roistory.i18n import N_, Nn_
from roistory.quality import Finding, Phrase, mask_personal_data

if TYPE_CHECKING:
    from roistory.config import AttributionConfig, EngineConfig
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
    engine: EngineConfig | None = None,
) -> dict[str, tuple[Journeys, JourneyStats]]:
    """Touchpoints cut into journeys once per dimension the touchpoints carry, by the
    configured journey engine (``engine``; None picks by size)."""
    return {
        dimension: journeys_for(
            touchpoints,
            events,
            engine,
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
    return with_orphans(credits, _in_window(stats.unattributed, window))


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
        scope = (
            Phrase(N_("{count} in this period, {revenue}"), count=len(in_window), revenue=revenue)
            if window is not None
            else revenue
        )
        findings.append(
            Finding.of(
                "warning",
                "conversions_without_touchpoints",
                len(orphans),
                Nn_(
                    "{count} conversion had no touchpoint in the {days}-day lookback ({scope}); "
                    "it is shown as '{segment}' rather than credited to a channel",
                    "{count} conversions had no touchpoint in the {days}-day lookback ({scope}); "
                    "they are shown as '{segment}' rather than credited to a channel",
                ),
                days=settings.lookback_days,
                scope=scope,
                segment=NO_TOUCHPOINTS,
            )
        )
    if stats.touches_beyond_lookback:
        findings.append(
            Finding.of(
                "info",
                "touchpoints_beyond_lookback",
                stats.touches_beyond_lookback,
                Nn_(
                    "{count} touchpoint came more than {days} days before its conversion and gets no credit",
                    "{count} touchpoints came more than {days} days before their conversion and get no credit",
                ),
                days=settings.lookback_days,
            )
        )
    if stats.reengaged_journeys:
        findings.append(
            Finding.of(
                "info",
                "reengaged_after_dormancy",
                stats.reengaged_journeys,
                Nn_(
                    "{count} journey restarted after more than {days} days of inactivity (re-engagement rule)",
                    "{count} journeys restarted after more than {days} days of inactivity (re-engagement rule)",
                ),
                days=settings.dormancy_days,
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
                        "segment": {dimension: mask_personal_data(str(segment))},  # as json_output's
                        "conversions": float(row["conversions"]),
                        "revenue": float(row["revenue"]),
                    }
                )
    return records
