"""roistory's models against the reference packages (see shared/ATTRIBUTION.md).

- ChannelAttribution 2.2.5 (GPL-3, C++; test/benchmark-only): ``heuristic_models``
  (first, last, linear) must be equal; ``markov_model`` only simulates, so with
  ``nfold=1, seed=0, nsim_start=1e7, max_step=10000`` every channel's removal
  effect must be within 4 standard errors of our exact one.
- marketing-attribution-models 2.1.1 (``mam``): first/last/linear/position_based/
  time_decay equal ours (time decay: mam measures hours to the journey's last
  touch, we measure to the conversion; normalising within the journey cancels
  the difference, so the credit is the same); ``run_markov`` computes the same
  exact removal effects and splits credit per journey (our ``markov_per_journey``);
  ``run_shapley(max_size=None)`` equals our ``shapley``.

Both packages are in the ``test`` and ``bench`` extras; without them these tests FAIL (a
skipped reference check would let a formula drift unnoticed): install ``.[test]``.
"""

from __future__ import annotations

import contextlib
import importlib
import io

import numpy as np
import pandas as pd
import pytest

from roistory.attribution import Journeys, run_model
from roistory.paths import aggregate_paths
from roistory.plugins.heuristic_attribution import MODELS as HEURISTICS
from roistory.plugins.markov_attribution import MODELS as MARKOV
from roistory.plugins.markov_attribution import removal_effects
from roistory.plugins.shapley_attribution import MODELS as SHAPLEY

MODELS = {m.id: m for m in [*HEURISTICS, *MARKOV, *SHAPLEY]}
CHANNELS = ("Affiliate", "Direct", "Display", "Email", "Paid Search", "Social", "Video")


def generated_journeys(n: int, seed: int) -> Journeys:
    """Journeys with repeats, loops, channel-dependent conversion and revenue."""
    rng = np.random.default_rng(seed)
    lengths = rng.geometric(0.35, n)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    total = int(offsets[-1])
    codes = rng.choice(len(CHANNELS), total, p=[0.05, 0.2, 0.1, 0.25, 0.2, 0.15, 0.05])
    repeat = rng.random(total) < 0.2
    repeat[offsets[:-1]] = False
    source = np.arange(total)
    source[repeat] = 0
    codes = codes[np.maximum.accumulate(source)].astype(np.int32)
    lift = np.array([0.02, 0.05, 0.01, 0.08, 0.1, 0.03, 0.04])
    journey = np.repeat(np.arange(n), lengths)
    p_convert = 1 - np.exp(np.bincount(journey, np.log1p(-lift[codes]), n))
    converted = (rng.random(n) < p_convert).astype(float)
    gaps = rng.exponential(30.0, total)
    hours = np.concatenate([np.cumsum(gaps[a:b][::-1])[::-1] for a, b in zip(offsets[:-1], offsets[1:], strict=True)])
    return Journeys(
        labels=CHANNELS,
        offsets=offsets.astype(np.int64),
        codes=codes,
        hours_before=hours,
        converted=converted,
        revenue=np.where(converted > 0, rng.integers(10, 500, n).astype(float), 0.0),
        end=np.full(n, np.datetime64("2026-03-01", "ns")),
    )


@pytest.fixture(scope="module")
def journeys() -> Journeys:
    return generated_journeys(4000, seed=11)


@pytest.fixture(scope="module")
def path_table(journeys) -> pd.DataFrame:
    """ChannelAttribution's input: distinct paths as 'a > b' strings with totals."""
    return aggregate_paths(journeys).to_frame(separator=" > ")


def required(module: str, distribution: str):
    """Import a reference package, failing (never skipping) with the line that installs it."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # ChannelAttribution prints a banner
            return importlib.import_module(module)
    except ImportError as exc:
        pytest.fail(f"the reference package {distribution} is missing ({exc}): pip install -e '.[test]'")


@pytest.fixture(scope="module")
def ca():
    return required("ChannelAttribution", "channelattribution==2.2.5")


@pytest.fixture(scope="module")
def mam():
    return required("mam", "marketing-attribution-models==2.1.1")


def ours(model_id: str, journeys: Journeys, params=None) -> pd.DataFrame:
    return run_model(MODELS[model_id], journeys, params)


# --------------------------------------------------------------------------
# ChannelAttribution
# --------------------------------------------------------------------------


def test_first_last_linear_equal_channelattribution(ca, journeys, path_table):
    with contextlib.redirect_stdout(io.StringIO()):
        theirs = ca.heuristic_models(
            path_table, "path", "total_conversions", var_value="total_conversion_value", flg_pro=False
        ).set_index("channel_name")
    for model_id, prefix in (("first_touch", "first_touch"), ("last_touch", "last_touch"), ("linear", "linear_touch")):
        mine = ours(model_id, journeys)
        np.testing.assert_allclose(
            mine["conversions"].reindex(theirs.index), theirs[f"{prefix}_conversions"], rtol=1e-9, atol=1e-9
        )
        np.testing.assert_allclose(
            mine["revenue"].reindex(theirs.index), theirs[f"{prefix}_value"], rtol=1e-9, atol=1e-6
        )


@pytest.mark.parametrize("order", [1, 2])
def test_markov_within_four_standard_errors_of_channelattribution(ca, journeys, path_table, order):
    nsim = 10_000_000
    with contextlib.redirect_stdout(io.StringIO()):
        theirs = ca.markov_model(
            path_table,
            "path",
            "total_conversions",
            var_value="total_conversion_value",
            var_null="total_null",
            order=order,
            nsim_start=nsim,
            max_step=10_000,
            nfold=1,
            seed=0,
            ncore=1,
            out_more=True,
            verbose=False,
            flg_pro=False,
        )
    exact = removal_effects(aggregate_paths(journeys), order)
    mine = pd.Series(exact.conversions, index=journeys.labels)
    simulated = theirs["removal_effects"].set_index("channel_name")["removal_effects_conversion"].reindex(mine.index)
    sd = np.sqrt(mine * (1 - mine) / (nsim * exact.p_conversion))
    z = (simulated - mine) / sd
    assert (z.abs() <= 4).all(), z.to_dict()
    # the credit (global rule) follows: same shares to simulation precision
    credit = ours("markov", journeys, {"order": order})
    their_credit = theirs["result"].set_index("channel_name")["total_conversions"].reindex(mine.index)
    np.testing.assert_allclose(credit["conversions"], their_credit, rtol=0.01)
    their_value = theirs["result"].set_index("channel_name")["total_conversion_value"].reindex(mine.index)
    np.testing.assert_allclose(credit["revenue"], their_value, rtol=0.01)


# --------------------------------------------------------------------------
# marketing-attribution-models
# --------------------------------------------------------------------------


def mam_journeys(journeys: Journeys) -> pd.DataFrame:
    """mam's 'journey' format: one row per journey, paths and hours as ' > '-joined strings."""
    labels = np.array(journeys.labels, dtype=object)
    names = labels[journeys.codes]
    bounds = list(zip(journeys.offsets[:-1], journeys.offsets[1:], strict=True))
    return pd.DataFrame(
        {
            "journey_id": [f"j{i}" for i in range(len(journeys))],
            "path": [" > ".join(names[a:b]) for a, b in bounds],
            "hours": [" > ".join(repr(float(h)) for h in journeys.hours_before[a:b]) for a, b in bounds],
            "has_conversion": journeys.converted > 0,
            "value": journeys.revenue * journeys.converted,
        }
    )


@pytest.fixture(scope="module")
def mam_models(mam, journeys):
    """Two MAM instances: credit of conversions (no value column) and of revenue."""
    frame = mam_journeys(journeys)
    common = dict(
        format_type="journey",
        channels_colname="path",
        journey_with_conv_colname="has_conversion",
        user_id_colname="journey_id",
        time_till_conv_colname="hours",
    )
    return {
        "conversions": mam.MAM(frame, **common),
        "revenue": mam.MAM(frame, **common, conversion_value_colname="value"),
    }


def _mam(result) -> pd.Series:
    return result.to_pandas().set_index("channels")["attribution"]


@pytest.mark.parametrize(
    ("model_id", "run"),
    [
        ("first_touch", lambda m: m.run_first_click()),
        ("last_touch", lambda m: m.run_last_click()),
        ("linear", lambda m: m.run_linear()),
        ("position_based", lambda m: m.run_position_based()),
        ("time_decay", lambda m: m.run_time_decay(half_life_hours=7 * 24)),
    ],
)
def test_heuristics_equal_mam(mam_models, journeys, model_id, run):
    mine = ours(model_id, journeys)
    for measure, model in mam_models.items():
        theirs = _mam(run(model)).reindex(mine.index).fillna(0.0)
        np.testing.assert_allclose(mine[measure], theirs, rtol=1e-9, atol=1e-6, err_msg=f"{model_id} {measure}")


def test_time_decay_half_life_maps_to_mam_hours(mam_models, journeys):
    mine = ours("time_decay", journeys, {"half_life_days": 2.5})
    theirs = _mam(mam_models["revenue"].run_time_decay(half_life_hours=60)).reindex(mine.index).fillna(0.0)
    np.testing.assert_allclose(mine["revenue"], theirs, rtol=1e-9)


def test_markov_removal_effects_and_per_journey_split_equal_mam(mam_models, journeys):
    result = mam_models["conversions"].run_markov()
    theirs_re = result.metadata["removal_effect"]["removal_effect"]
    exact = removal_effects(aggregate_paths(journeys), 1)
    mine_re = pd.Series(exact.conversions, index=journeys.labels).reindex(theirs_re.index)
    np.testing.assert_allclose(mine_re, theirs_re, rtol=0, atol=1e-12)
    mine = ours("markov_per_journey", journeys)
    for measure, model in mam_models.items():
        theirs = _mam(model.run_markov()).reindex(mine.index).fillna(0.0)
        np.testing.assert_allclose(mine[measure], theirs, rtol=1e-9, atol=1e-6, err_msg=measure)


def test_shapley_equals_mam_without_max_size(mam_models, journeys):
    mine = ours("shapley", journeys)
    for measure, model in mam_models.items():
        theirs = _mam(model.run_shapley(max_size=None)).reindex(mine.index).fillna(0.0)
        np.testing.assert_allclose(mine[measure], theirs, rtol=1e-9, atol=1e-6, err_msg=measure)


_WITHOUT_PACKAGES = """
import sys
class Hide:  # as if the reference packages were not installed
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("mam", "ChannelAttribution"):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by the test)")
sys.meta_path.insert(0, Hide())
import pytest
sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "-k", "test_heuristics or test_first_last", sys.argv[1]]))
"""


def test_a_missing_reference_package_fails_the_suite():
    """Without the packages the reference tests error out, naming the package; none skips."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_PACKAGES, __file__], capture_output=True, text=True, timeout=300
    )
    assert done.returncode != 0, done.stdout
    assert "skipped" not in done.stdout.splitlines()[-1], done.stdout[-500:]
    assert "marketing-attribution-models==2.1.1 is missing" in done.stdout
    assert "channelattribution==2.2.5 is missing" in done.stdout
