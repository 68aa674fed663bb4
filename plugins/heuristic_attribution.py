"""Rule-based attribution models: first touch, last touch, linear.

Each returns one weight per touch; the weights of a converting journey sum to 1.
"""

from __future__ import annotations

import numpy as np

from roistory import hookimpl
from roistory.attribution import AttributionModel, Journeys


def first_touch(journeys: Journeys, params: dict) -> np.ndarray:
    weights = np.zeros(len(journeys.codes))
    weights[journeys.offsets[:-1]] = 1.0
    return weights


def last_touch(journeys: Journeys, params: dict) -> np.ndarray:
    weights = np.zeros(len(journeys.codes))
    weights[journeys.offsets[1:] - 1] = 1.0
    return weights


def linear(journeys: Journeys, params: dict) -> np.ndarray:
    return np.repeat(1.0 / journeys.lengths, journeys.lengths)


MODELS = [
    AttributionModel(
        "first_touch",
        "First touch",
        "All credit to the first touch of the journey: rewards the channels that introduce people.",
        first_touch,
    ),
    AttributionModel(
        "last_touch",
        "Last touch",
        "All credit to the last touch before the conversion: rewards the channels that close.",
        last_touch,
    ),
    AttributionModel(
        "linear",
        "Linear",
        "Equal credit to every touch of the journey: assumes each interaction mattered as much.",
        linear,
    ),
]


@hookimpl
def register_attribution_models(register):
    for model in MODELS:
        register(model)
