"""Table 1 of the paper: the sweep configuration, its cells and the markdown table (docs/emt.md §4 sweep, §6).

* :class:`TableConfig`: tasks x H x L2 x thresholds x seeds (one vmapped member axis per H) with the engine's
  :class:`wavejax.rnn.TrainConfig` for the optimizer / steps / checkpoints.
* :func:`table_sweep`: train and score the sweep; :func:`table_cells`: the cells of one H from a trained sweep.
* :data:`PAPER_TABLE`, :func:`format_cell`, :func:`format_table`: the paper's Table 1 and the measured table in
  its format. :data:`SPEC_TABLES`: the decoded task tables of docs/emt.md §3 (reference for the decoder).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from wavejax import _validate
from wavejax.emt._circuit import circuit_matrix, recurrent_positions
from wavejax.emt._spectral import spectral_error
from wavejax.emt._training import EMTConfig, EMTRun, train_sweep
from wavejax.rnn import TrainConfig
from wavejax.tasks import NAMED_TASKS as TASKS
from wavejax.tasks import SPEC_TABLES as SPEC_TABLES
from wavejax.tasks import decode_task

__all__ = ["PAPER_TABLE", "TableConfig", "table_sweep", "table_cells", "format_table"]

Cell = tuple[float | None, float]  # (mean spectral error in rad or None for "---", mean test accuracy)
CellKey = tuple[tuple[int, int, int], int, float]  # (task id, H, L2)


_COLUMNS = [(64, 0.0), (64, 1e-3), (64, 0.1), (128, 0.0), (128, 1e-3), (128, 0.1)]
#: Table 1 of the paper (docs/emt.md §6): (task id, H, L2) -> (spectral error in rad or None for "---", test accuracy).
PAPER_TABLE: dict[CellKey, Cell] = {
    (TASKS[name], H, lam): cell
    for name, cells in {
        "repeat_copy": [(None, 0.97), (None, 0.88), (None, 0.50), (0.0005, 1.00), (None, 0.93), (None, 0.50)],
        "compose_copy": [(0.0075, 1.00), (None, 0.85), (None, 0.50), (0.0055, 0.98), (0.0031, 0.98), (None, 0.50)],
        "mix_262676_189": [(0.0026, 1.00), (0.0010, 0.97), (None, 0.50), (0.0031, 0.98), (0.0005, 1.00),
                           (None, 0.50)],
        "mix_38637_145": [(0.0112, 0.94), (0.0011, 1.00), (None, 0.50), (0.0022, 1.00), (0.0006, 1.00),
                          (None, 0.50)],
    }.items()
    for (H, lam), cell in zip(_COLUMNS, cells, strict=True)
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class TableConfig:
    """The Table-1 sweep (docs/emt.md §4 sweep, §6 table). ``train.l2`` / ``train.threshold`` are replaced by the swept
    ``l2s`` / ``thresholds``.

    >>> TableConfig.quick().hiddens, TableConfig.full().seeds
    ((64,), 20)
    """

    tasks: tuple[str, ...] = tuple(TASKS)  # task names or "id1,id2,id3"
    hiddens: tuple[int, ...] = (64, 128)  # H values (one compiled program each)
    l2s: tuple[float, ...] = (0.0, 1e-3, 0.1)  # coupled L2 values (swept on the member axis)
    thresholds: tuple[float, ...] = (0.9, 0.98)  # curriculum thresholds; a cell takes the best of them per seed
    seeds: int = 20  # seeds 0..seeds-1
    batch: int = 64  # batch size
    test_batches: int = 10  # test batches at horizon 200
    train: TrainConfig = TrainConfig()  # the engine's settings (steps, lr, clip, chunk, ckpt_every, member_block)

    def __post_init__(self):
        for k in ("tasks", "hiddens", "l2s", "thresholds"):
            if not getattr(self, k):
                raise ValueError(f"{k} must be non-empty")
        for k in ("seeds", "batch", "test_batches"):
            _validate.positive_int(k, getattr(self, k))

    @classmethod
    def quick(cls) -> TableConfig:
        """Smoke sweep: seconds per H on CPU; checks only the machinery."""
        return cls(hiddens=(64,), l2s=(0.0, 0.1), thresholds=(0.96,), seeds=1, batch=8, test_batches=1,
                   train=TrainConfig(steps=100, chunk=100, log_every=100, ckpt_every=0))

    @classmethod
    def full(cls) -> TableConfig:
        """The paper's sweep restricted to H in {64, 128} and L2 in {0, 1e-3, 0.1}."""
        return cls()

    def emt(self, hidden: int) -> EMTConfig:
        """The :class:`EMTConfig` of the sweep at width ``hidden``."""
        return EMTConfig(hidden=hidden, batch=self.batch, test_batches=self.test_batches, train=self.train)


def _member_error(tid: tuple[int, int, int], W_hh: np.ndarray) -> float:
    """Spectral error (rad, thr 0.9) of one member vs its task's circuit (s, d from the operator's shape)."""
    F = decode_task(tid)
    d = F.shape[1]
    Phi = circuit_matrix(F, F.shape[0] // d)
    keep = recurrent_positions(Phi)
    return spectral_error(Phi[np.ix_(keep, keep)], W_hh, 0.9)


def table_cells(run: EMTRun, hidden: int) -> tuple[dict[CellKey, Cell], list[dict]]:
    """Cells "(mean over seeds of the min spectral error over thresholds, mean over seeds of the max accuracy)".

    The mean over seeds skips NaN spectral errors (pandas' default, as in the authors' notebook); a cell is NaN
    ("---") when no seed has a finite error. Returns the cells and the per-member records.
    """
    recs = []
    for i, m in enumerate(run.members):
        tid = tuple(m["task"])
        err = _member_error(tid, run.params["W_hh"][i])
        recs.append({**m, "task": tid, "H": hidden, "spectral_error": err, "accuracy": float(run.test_accuracy[i])})
    cells = {}
    for key in dict.fromkeys((r["task"], r["l2"]) for r in recs):
        by_seed: dict[int, list[dict]] = {}
        for r in recs:
            if (r["task"], r["l2"]) == key:
                by_seed.setdefault(r["seed"], []).append(r)
        errs = [np.nanmin([r["spectral_error"] for r in rs]) if any(math.isfinite(r["spectral_error"]) for r in rs)
                else math.nan for rs in by_seed.values()]
        accs = [max(r["accuracy"] for r in rs) for rs in by_seed.values()]
        finite = [e for e in errs if math.isfinite(e)]
        cells[(key[0], hidden, key[1])] = (float(np.mean(finite)) if finite else None, float(np.mean(accs)))
    return cells, recs


def table_sweep(cfg: TableConfig, out: str | Path | None = None) -> tuple[dict[CellKey, Cell], list[dict]]:
    """Train the sweep of ``cfg`` (one member axis per H, checkpoints in ``out/sweep_H<H>``) and score it."""
    cells, recs = {}, []
    for H in cfg.hiddens:
        run = train_sweep(cfg.emt(H), cfg.tasks, cfg.l2s, cfg.thresholds, range(cfg.seeds),
                          out=None if out is None else Path(out) / f"sweep_H{H}")
        c, r = table_cells(run, H)
        cells |= c
        recs += r
    return cells, recs


def format_cell(err: float | None, acc: float) -> str:
    """A Table-1 cell: "0.0005 (1.00)", or "--- (0.93)" when the spectral error is NaN / missing.

    >>> format_cell(0.00049, 0.9996), format_cell(float("nan"), 0.931)
    ('0.0005 (1.00)', '--- (0.93)')
    """
    e = "---" if err is None or not math.isfinite(err) else f"{err:.4f}"
    return f"{e} ({acc:.2f})"


def format_table(cells: Mapping[CellKey, Cell], *, hiddens=(64, 128), l2s=(0.0, 1e-3, 0.1),
                 with_paper: bool = True) -> str:
    """Markdown Table 1 (docs/emt.md §6): rows = task ids, columns = H x L2; cells "err (acc)".

    ``cells[(task_id, H, l2)] = (mean spectral error or None, mean test accuracy)``; missing cells print "n/a".
    With ``with_paper`` every cell also shows the paper's value: "measured [paper: ...]".
    """
    tids = list(dict.fromkeys(k[0] for k in cells)) or list(TASKS.values())
    cols = [(H, lam) for H in hiddens for lam in l2s]
    head = "| task id | " + " | ".join(f"H{H} L2={lam:g}" for H, lam in cols) + " |"
    lines = [head, "|" + "---|" * (len(cols) + 1)]
    for tid in tids:
        name = next((n for n, v in TASKS.items() if v == tid), "")
        cs = []
        for H, lam in cols:
            c = cells.get((tid, H, lam))
            txt = "n/a" if c is None else format_cell(*c)
            if with_paper and (tid, H, lam) in PAPER_TABLE:
                txt += f" [paper: {format_cell(*PAPER_TABLE[(tid, H, lam)])}]"
            cs.append(txt)
        lines.append(f"| {tid} {name} | " + " | ".join(cs) + " |")
    return "\n".join(lines) + "\n"
