"""Execute every notebook in notebooks/ at its small (CPU) scale."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("*.ipynb"))


def test_notebooks_exist():
    assert NOTEBOOKS, "notebooks/ holds no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path, monkeypatch):
    monkeypatch.setenv("WAVEJAX_NOTEBOOK_SCALE", "small")
    monkeypatch.setenv("WAVEJAX_PROGRESS", "0")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    committed = path.read_bytes()
    nb = nbformat.read(path, as_version=4)
    first = "".join(nb.cells[0].source) if nb.cells else ""
    assert "pip install" in first, "the first cell must install wavejax (Colab-ready)"
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, [e.get("ename") for e in errors]
    unrun = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()
             and c.get("execution_count") is None]
    assert not unrun, f"code cells {unrun} did not execute"
    assert path.read_bytes() == committed  # executed in memory: the committed outputs are not rewritten


TRAINERS = {"train_task", "train_sweep", "run_sweep", "run_study", "train"}  # the calls that run long trainings


def _calls(src: str):
    import ast

    code = "\n".join(ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!")))
    return [n for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Call)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_trainings_checkpoint_and_resume(path):
    """Issue 14 item 11: notebook 03 trained its 20k paper-scale steps with ckpt_every=0 and no folder (a Colab
    disconnect lost them). Every training call gets an output folder (checkpoints, resume) and no ckpt_every=0."""
    import ast

    nb = nbformat.read(path, as_version=4)
    for i, c in enumerate(nb.cells):
        if c.cell_type != "code":
            continue
        for call in _calls(c.source):
            kws = {k.arg: k.value for k in call.keywords}
            ck = kws.get("ckpt_every")
            assert not (isinstance(ck, ast.Constant) and ck.value == 0), f"cell {i}: ckpt_every=0"
            name = getattr(call.func, "attr", getattr(call.func, "id", ""))
            if name in TRAINERS:
                out = kws.get("out", call.args[1] if len(call.args) > 1 else None)
                assert out is not None and not (isinstance(out, ast.Constant) and out.value is None), \
                    f"cell {i}: {name}(...) without an output folder"


def test_committed_notebooks_show_their_outputs():
    """Issue 14 item 11: the notebooks are committed with the outputs of a CPU run (GitHub shows the figures), and
    every code cell ran without error, in order."""
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
        assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), path.name
        outs = [o for c in code for o in c.get("outputs", [])]
        assert not [o for o in outs if o.get("output_type") == "error"], path.name
        assert any("image/png" in o.get("data", {}) for o in outs), f"{path.name} stores no figure"
