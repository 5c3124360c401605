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
