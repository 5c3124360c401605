"""Control of the three-phase verdict (issue 13 §1): synthetic frontiers with known breakpoints, run through the
same procedure as a sweep (:func:`wavejax.tradeoff._analysis.analyze`: Pareto front of all points, 0/1/2-breakpoint
fits with BIC, bootstrap, verdict), recover their breakpoints; plus the verdict rule, the cost span and the
training-curve plateau test on hand-made inputs."""

import lzma

import jax
import numpy as np
import pytest

from wavejax.tradeoff import _cost, analyze, phase_verdict
from wavejax.tradeoff._analysis import cost_span
from wavejax.tradeoff._curves import _drop, plateau_summary
from wavejax.tradeoff._fits import piecewise_predict

TOL_DECADES = 0.15  # breakpoint tolerance (tradeoff.md §7 check 5)


def _synthetic_points(taus, slopes, seed, *, n=60, sigma=0.02):
    """n front points v = piecewise(u) + N(0, σ²) in (u, v) = (log₁₀ C, log₁₀ ℓ), u ~ U(1, 5), each with 3
    dominated copies (the same cost, loss 0.1–0.5 decades higher: other seeds / quantisations; the last one
    unquantised, b = 32)."""
    rng = np.random.default_rng(seed)
    u = np.sort(rng.uniform(1.0, 5.0, n))
    v = piecewise_predict(u, 0.3, slopes, taus) + sigma * rng.standard_normal(n)
    pts = []
    for i, (ui, vi) in enumerate(zip(u, v, strict=True)):
        for j, dv in enumerate((0.0, *rng.uniform(0.1, 0.5, 3))):
            pts.append({"family": "elman", "width": i, "seed": j % 3, "bits": 32 if j == 3 else 8, "sparsity": 0.0,
                        "group": f"g{i}",
                        "cost_bits": float(10**ui), "loss": float(10 ** (vi + dv)), "raw_bits": 32e6,
                        "n_params": 10**6})
    return pts


TASK = {"name": "synthetic", "discrete": True, "floor": None, "n_test_symbols": 10_000}


def test_control_two_breakpoints_are_recovered_and_supported():
    """Known (τ₁, τ₂) = (2, 3.5), slopes (−0.05, −0.8, −0.1), σ = 0.02: k = 2 by BIC, breakpoints within
    0.15 decades, slopes within 0.1, verdict "supported"."""
    taus, slopes = (2.0, 3.5), (-0.05, -0.8, -0.1)
    a = analyze(_synthetic_points(taus, slopes, 0), TASK, key=jax.random.key(0), n_boot=10)
    ph = a["phases"]["loss"]
    assert ph["k"] == 2
    np.testing.assert_allclose(ph["breakpoints"], taus, atol=TOL_DECADES)
    np.testing.assert_allclose(ph["slopes"], slopes, atol=0.1)
    v = a["verdict"]["loss"]
    assert v["supported"] and v["shape_ok"] and v["dbic_2_vs_1"] < 0 and v["dbic_2_vs_0"] < 0
    assert v["text"].startswith("three phases supported")
    assert a["span"]["front_decades"] == pytest.approx(np.log10(ph and max(p["cost_bits"] for p in a["front"])
                                                                / min(p["cost_bits"] for p in a["front"])))


def test_control_one_breakpoint_gives_k1_and_not_supported():
    """Known τ = 3, slopes (−0.8, −0.05): k = 1 by BIC, breakpoint within 0.15 decades, verdict "not supported"."""
    a = analyze(_synthetic_points((3.0,), (-0.8, -0.05), 1), TASK, key=jax.random.key(0), n_boot=10)
    ph = a["phases"]["loss"]
    assert ph["k"] == 1
    assert abs(ph["breakpoints"][0] - 3.0) <= TOL_DECADES
    v = a["verdict"]["loss"]
    assert not v["supported"] and v["text"].startswith("three phases not supported: BIC picks k = 1")


def test_verdict_rule_needs_the_steep_middle_segment():
    ph = {"k": 2, "bic": {"0": 5.0, "1": 0.0, "2": -3.0},
          "models": {"2": {"slopes": [-0.9, -0.2, -0.05], "breakpoints": [2.0, 3.0]}}}
    v = phase_verdict(ph, 0.7)
    assert (v["supported"], v["shape_ok"], v["dbic_2_vs_1"], v["dbic_2_vs_0"]) == (False, False, -3.0, -8.0)
    ph["models"]["2"]["slopes"] = [-0.05, -0.9, -0.2]
    assert phase_verdict(ph)["supported"] and phase_verdict(ph)["middle_decades"] == 1.0
    ph["models"]["2"]["breakpoints"] = [2.0, 2.2]  # a step: the steep stretch spans 0.2 < 0.5 decades
    v = phase_verdict(ph)
    assert not v["supported"] and v["shape_ok"] and "not supported (a step)" in v["text"]
    assert not phase_verdict({"error": "too few"})["supported"]


def test_verdict_needs_a_bic_margin_of_2():
    """Issue 22 item 9: the full HMM front's BIC (k=0: -444.0, k=1: -449.3, k=2: -449.2; the k = 2 model
    flat-steep-flat over 1.26 decades) picks k = 1 by 0.1 < 2: the verdict is undecided with its margin, not
    "not supported"; the same margin against a k = 2 choice is undecided too; a k = 2 shape that is not the claimed
    one decides "not supported" whatever the margin."""
    ph = {"k": 1, "bic": {"0": -444.0, "1": -449.3, "2": -449.2},
          "models": {"2": {"slopes": [-0.041, -0.049, -0.004], "breakpoints": [3.115, 4.377]}}}
    v = phase_verdict(ph)
    assert not v["supported"] and not v["decided"] and abs(v["dbic_margin"] - 0.1) < 1e-9
    assert v["text"].startswith("three phases undecided (ΔBIC = 0.100 < 2): BIC picks k = 1"), v["text"]
    ph2 = {**ph, "k": 2, "bic": {"0": -444.0, "1": -449.2, "2": -449.3}}
    assert not phase_verdict(ph2)["supported"] and "undecided" in phase_verdict(ph2)["text"]
    ph2["bic"] = {"0": -444.0, "1": -447.0, "2": -449.3}  # margin 2.3: decided
    assert phase_verdict(ph2)["supported"] and phase_verdict(ph2)["decided"]
    flat = {**ph, "models": {"2": {"slopes": [-0.9, -0.2, -0.05], "breakpoints": [2.0, 3.0]}}}
    assert phase_verdict(flat)["decided"] and phase_verdict(flat)["text"].startswith("three phases not supported")


def test_cost_span_in_decades():
    C = np.array([0.0, 10.0, 100.0, 1e4, 1e5])
    s = cost_span(C, np.array([True, True, True, True, False]))
    assert (s["points_decades"], s["front_decades"]) == (pytest.approx(4.0), pytest.approx(3.0))


def test_plateau_drop_and_summary():
    flat, falling = np.full(20, 0.5), np.linspace(1.0, 0.5, 20)
    assert _drop(flat) == 0.0
    assert _drop(falling) == pytest.approx((falling[-8:-4].mean() - falling[-4:].mean()) / falling[-4:].mean())
    curves = [{"family": "elman", "width": w, "steps": 2000, "loss": [list(c), list(c)]}
              for w, c in ((4, falling), (64, flat))]
    s = plateau_summary(curves)
    assert s["largest"]["elman"]["width"] == 64 and s["all_flat"] and s["largest"]["elman"]["steps"] == 2000
    assert s["groups"][0]["final"] == 0.5 and s["groups"][0]["drop"] > 0.05
    legacy = [{"family": "lstm", "width": 8, "every": 100, "loss": [list(flat)]}]  # first version: one per step
    assert plateau_summary(legacy)["largest"]["lstm"]["steps"] == 20


def test_lzma_dictionary_cut_keeps_the_preset_9_sizes():
    """The LZMA2 dictionary sized to the input gives the sizes of the 64 MiB preset-9-extreme dictionary."""
    rng = np.random.default_rng(0)
    full = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]
    for n, b in ((50, 2), (3000, 8), (20_000, 16), (20_000, 32)):
        q, s = _cost.quantize({"w": rng.standard_normal(n).astype(np.float32)}, b, 0.5)
        blob = _cost.serialize(q, s, b)
        assert (len(lzma.compress(blob, format=lzma.FORMAT_RAW, filters=_cost._lzma_filters(len(blob))))
                == len(lzma.compress(blob, format=lzma.FORMAT_RAW, filters=full)))
