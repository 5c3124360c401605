"""Cost–quality tradeoff of resource-constrained sequence predictors (Karuvally & Moss, "Model Complexity of
Program Phases", arXiv:2310.03865; guide: docs/tradeoff.md).

* Costs (``cost``): per-tensor symmetric b-bit quantisation with optional magnitude pruning, deterministic
  serialisation, best of LZMA / zstd / rANS → ``compressed_bits``; parameter count, raw bits, nonzeros, MACs and
  recurrent-state bits.
* Tasks with a known floor (``tasks``, ``cache``, ``data``): a switching AR process, a unifilar HMM with an exact
  entropy rate, and program-phase miss-rate traces of a set-associative LRU cache over real kernels.
* The model family (``models``) trained by :func:`wavejax.rnn.train` with the vmapped seed axis (several widths as
  one program: ``pack``), the compression ladder and its sharded evaluation (``ladder``), the resumable
  sweep (``sweep``), the frontier and MDL optimum (``frontier``), the three-phase and power-law fits with bootstrap
  CIs (``fits``) and the whole analysis of a sweep (``analysis``).
"""

from wavejax.tradeoff._analysis import analyze as analyze
from wavejax.tradeoff._analysis import compression_shift as compression_shift
from wavejax.tradeoff._analysis import phase_verdict as phase_verdict
from wavejax.tradeoff._cache import CacheConfig as CacheConfig
from wavejax.tradeoff._cache import simulate_cache as simulate_cache
from wavejax.tradeoff._cost import compressed_bits as compressed_bits
from wavejax.tradeoff._cost import dequantize as dequantize
from wavejax.tradeoff._cost import empirical_entropy_bits as empirical_entropy_bits
from wavejax.tradeoff._cost import nonzeros as nonzeros
from wavejax.tradeoff._cost import param_count as param_count
from wavejax.tradeoff._cost import quantize as quantize
from wavejax.tradeoff._cost import raw_bits as raw_bits
from wavejax.tradeoff._cost import serialize as serialize
from wavejax.tradeoff._data import TaskData as TaskData
from wavejax.tradeoff._data import make_task as make_task
from wavejax.tradeoff._figures import frontier_figures as frontier_figures
from wavejax.tradeoff._fits import PhaseFit as PhaseFit
from wavejax.tradeoff._fits import PowerLawFit as PowerLawFit
from wavejax.tradeoff._fits import fit_phases as fit_phases
from wavejax.tradeoff._fits import fit_power_law as fit_power_law
from wavejax.tradeoff._frontier import family_fronts as family_fronts
from wavejax.tradeoff._frontier import minimal_sufficient as minimal_sufficient
from wavejax.tradeoff._frontier import pareto_front as pareto_front
from wavejax.tradeoff._models import FAMILIES as FAMILIES
from wavejax.tradeoff._models import macs_per_step as macs_per_step
from wavejax.tradeoff._models import make_model as make_model
from wavejax.tradeoff._models import state_bits as state_bits
from wavejax.tradeoff._predictors import trivial_points as trivial_points
from wavejax.tradeoff._sweep import SweepConfig as SweepConfig
from wavejax.tradeoff._sweep import load_points as load_points
from wavejax.tradeoff._sweep import run_sweep as run_sweep
from wavejax.tradeoff._sweep import task_summary as task_summary
from wavejax.tradeoff._tasks import HMM as HMM
from wavejax.tradeoff._tasks import SwitchingAR as SwitchingAR
from wavejax.tradeoff._tasks import hmm_entropy_rate as hmm_entropy_rate
from wavejax.tradeoff._tasks import hmm_forward_nll as hmm_forward_nll
from wavejax.tradeoff._tasks import hmm_sample as hmm_sample
from wavejax.tradeoff._tasks import switching_ar as switching_ar
from wavejax.tradeoff._tasks import unifilar_hmm as unifilar_hmm

__all__ = [
    "CacheConfig", "FAMILIES", "HMM", "PhaseFit", "PowerLawFit", "SweepConfig", "SwitchingAR", "TaskData", "analyze",
    "compressed_bits", "compression_shift", "dequantize", "empirical_entropy_bits", "family_fronts", "fit_phases",
    "fit_power_law", "frontier_figures", "hmm_entropy_rate", "hmm_forward_nll", "hmm_sample", "load_points",
    "macs_per_step", "make_model", "make_task", "minimal_sufficient", "nonzeros", "param_count", "pareto_front",
    "phase_verdict", "quantize", "raw_bits", "run_sweep", "serialize", "simulate_cache", "state_bits", "switching_ar",
    "task_summary", "trivial_points", "unifilar_hmm",
]
