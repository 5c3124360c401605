"""Execute every notebook at the small (CPU) scale and store its outputs in the .ipynb (``make notebook-outputs``).

    python notebooks/store_outputs.py [NAME_PART ...]      # all notebooks, or those whose file name contains one

The kernel imports wavejax from this checkout (``PYTHONPATH`` = the repository root) and runs in a temporary
folder, so the ``runs/`` it writes are discarded. Stored: printed results, figures (PNG) and tables; dropped: stderr
(warnings, progress bars) and per-cell timing metadata; a text output longer than 4,000 characters is cut.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
MAX_TEXT = 4000


def strip(nb: nbformat.NotebookNode) -> None:
    """Drop stderr streams and timing metadata; cut long text outputs (in place)."""
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        c.metadata.pop("execution", None)
        keep = []
        for o in c.get("outputs", []):
            if o.output_type == "stream" and o.name == "stderr":
                continue
            if o.output_type == "stream" and len(o.text) > MAX_TEXT:
                o.text = o.text[:MAX_TEXT] + "\n... (output truncated)\n"
            keep.append(o)
        c.outputs = keep


def main(parts: list[str]) -> int:
    os.environ.update(PYTHONPATH=str(ROOT), WAVEJAX_NOTEBOOK_SCALE="small", WAVEJAX_PROGRESS="0")
    os.environ.pop("MPLBACKEND", None)  # the kernel's inline backend, so plt.show() stores its figure
    for p in sorted((ROOT / "notebooks").glob("*.ipynb")):
        if parts and not any(s in p.name for s in parts):
            continue
        nb = nbformat.read(p, as_version=4)
        t0 = time.time()
        with tempfile.TemporaryDirectory() as cwd:
            NotebookClient(nb, timeout=1800, kernel_name="python3", record_timing=False,
                           resources={"metadata": {"path": cwd}}).execute()
        strip(nb)
        nbformat.write(nb, p)
        print(f"{p.name}: executed in {time.time() - t0:.0f} s, {p.stat().st_size / 1e3:.0f} kB", flush=True)
    return 0  # a cell that raises stops the run (nbclient's CellExecutionError)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
