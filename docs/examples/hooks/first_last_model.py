"""Example for register_attribution_models: credit split between first and last touch."""

import numpy as np

from roistory.api import AttributionModel, ModelParamError, hookimpl


def first_last(journeys, params):
    """One weight per touch: first_share to the first, the rest to the last touch."""
    share = params["first_share"]
    weights = np.zeros(len(journeys.codes))
    np.add.at(weights, journeys.offsets[:-1], share)  # first touch of each journey
    np.add.at(weights, journeys.offsets[1:] - 1, 1.0 - share)  # last touch (the same one if alone)
    return weights


def check(params):
    share = params["first_share"]
    if not isinstance(share, int | float) or not 0 <= share <= 1:
        raise ModelParamError("first_share", f"must be a number from 0 to 1, got {share!r}")
    return {"first_share": float(share)}


@hookimpl
def register_attribution_models(register):
    register(
        AttributionModel(
            "first_last",
            "First and last",
            "Credit split between the first and the last touch; the middle gets none.",
            first_last,
            defaults={"first_share": 0.5},
            validate=check,
        )
    )
