"""Issue 22 item 9: every published number is generated from a committed result file, and every result folder
records its environment."""

import json
from pathlib import Path

import pytest

from wavejax.report import _readme_table as T
from wavejax.report._environment import ENVIRONMENT_FILE, FIELDS, UNKNOWN, environment

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"


def test_readme_results_table_is_the_generated_one():
    """README.md's "What reproduces" block equals the table generated from docs/results/ (regenerate with
    ``make results-table``)."""
    block = T.readme_block((ROOT / "README.md").read_text())
    assert block is not None, "README.md lacks the results markers"
    assert block == T.results_table(RESULTS), "README results table is stale: run `make results-table`"


def test_update_readme_rewrites_a_changed_number(tmp_path):
    table = T.results_table(RESULTS)
    assert "| 0.99985, 64, 5.5e-04 rad (one seed) |" in table  # read from repeat_copy/analysis.json
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{T.START}\n{table.replace('0.99985', '0.99999')}\n{T.END}\ntail\n")
    assert T.update_readme(readme, RESULTS) is True
    assert readme.read_text() == f"intro\n{T.START}\n{table}\n{T.END}\ntail\n"
    assert T.update_readme(readme, RESULTS) is False
    (tmp_path / "bare.md").write_text("no markers")
    with pytest.raises(ValueError, match="markers"):
        T.update_readme(tmp_path / "bare.md", RESULTS)


def test_a_finished_28x28_study_adds_its_verdict_rows(tmp_path):
    """The 28x28 study's rows (issue 20) appear once a loss's results.json exists, with the seed-level verdict as
    ``gan.study`` writes it; a loss still training has none. Stand-in: the committed gan_mnist study plus the
    verdict row built by the study's own code."""
    import dataclasses

    from wavejax.gan._experiments import _on_par_row

    root = tmp_path / "results"
    root.mkdir()
    for p in RESULTS.iterdir():
        if p.name != "gan_study28":
            (root / p.name).symlink_to(p)
    before = T.results_table(root)  # every committed result but the 28x28 study
    rec = json.loads((RESULTS / "gan_mnist" / "results.json").read_text())
    per = {"none": [0.50, 0.52, 0.51], "conv2": [0.49, 0.51, 0.50]}
    rec["claims"].append(dataclasses.asdict(_on_par_row({"entropy_per_seed": per}, "conv2", 3)))
    (root / "gan_study28" / "wgan_gp").mkdir(parents=True)
    (root / "gan_study28" / "wgan_gp" / "results.json").write_text(json.dumps(rec))
    table = T.results_table(root)
    assert before.count("GAN:") + 2 == table.count("GAN:")  # two rows, for WGAN-GP only
    cfg = rec["config"]["gan"]
    scale = f"28×28, WGAN-GP, h = {cfg['hidden']}, {cfg['steps']:,} steps, {cfg['seeds']} seeds per arm"
    assert f"| GAN: shared ≈ baseline ({scale}) | **on par (95% CI inside ±0.05)** | baseline − shared over " \
           "seeds +0.0100 [" in table
    assert f"| GAN: G and D kernels more similar than chance ({scale}) | **not above chance** |" in table
    ind = next(c["measured"] for c in rec["claims"] if c["quantity"].startswith("null 'independent_critic'"))
    assert f"an independently trained critic {ind.split(';')[0]} (KS p = " in table
    assert "28×28, original loss" not in table


def test_missing_result_file_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        T.results_table(tmp_path)


def _environment_record(folder: Path) -> dict | None:
    rec = json.loads((folder / "results.json").read_text())
    if isinstance(rec, dict) and "environment" in rec:
        return rec["environment"]
    for d in (folder, *folder.parents):
        if (d / ENVIRONMENT_FILE).is_file():
            return json.loads((d / ENVIRONMENT_FILE).read_text())
        if d == RESULTS:
            break
    return None


def test_every_results_folder_records_its_environment():
    folders = sorted({p.parent for p in RESULTS.rglob("results.json")})
    assert len(folders) >= 10
    for folder in folders:
        env = _environment_record(folder)
        assert env is not None, f"{folder.relative_to(ROOT)}: no environment record"
        missing = [f for f in FIELDS if f not in env]
        assert not missing, f"{folder.relative_to(ROOT)}: environment lacks {missing}"


def test_new_results_record_their_environment():
    from wavejax.report._experiment import Result
    from wavejax.report._results import results_record, validate_results

    rec = results_record(Result(rows=[]), command="test")
    validate_results(rec)
    env = rec["environment"]
    assert set(env) == set(FIELDS) and env == environment()
    assert env["jax"] != UNKNOWN and ":" in env["device"]
