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

from wavejax.tradeoff.analysis import analyse as analyse  # deprecated alias (not in __all__)
from wavejax.tradeoff.analysis import analyze as analyze
from wavejax.tradeoff.analysis import compression_shift as compression_shift
from wavejax.tradeoff.analysis import cost_span as cost_span
from wavejax.tradeoff.analysis import phase_summary as phase_summary
from wavejax.tradeoff.analysis import phase_verdict as phase_verdict
from wavejax.tradeoff.analysis import usable_points as usable_points
from wavejax.tradeoff.cache import KERNELS as KERNELS
from wavejax.tradeoff.cache import CacheConfig as CacheConfig
from wavejax.tradeoff.cache import kernel_addresses as kernel_addresses
from wavejax.tradeoff.cache import program_addresses as program_addresses
from wavejax.tradeoff.cache import program_trace as program_trace
from wavejax.tradeoff.cache import program_traces as program_traces
from wavejax.tradeoff.cache import simulate_cache as simulate_cache
from wavejax.tradeoff.cost import BITS_LADDER as BITS_LADDER
from wavejax.tradeoff.cost import SCALE_BITS as SCALE_BITS
from wavejax.tradeoff.cost import compress_sizes as compress_sizes
from wavejax.tradeoff.cost import compressed_bits as compressed_bits
from wavejax.tradeoff.cost import compression_costs as compression_costs
from wavejax.tradeoff.cost import dequantize as dequantize
from wavejax.tradeoff.cost import empirical_entropy_bits as empirical_entropy_bits
from wavejax.tradeoff.cost import nonzeros as nonzeros
from wavejax.tradeoff.cost import packed_bits as packed_bits
from wavejax.tradeoff.cost import param_count as param_count
from wavejax.tradeoff.cost import quantize as quantize
from wavejax.tradeoff.cost import raw_bits as raw_bits
from wavejax.tradeoff.cost import serialise as serialise  # deprecated alias (not in __all__)
from wavejax.tradeoff.cost import serialize as serialize
from wavejax.tradeoff.curves import curves_figure as curves_figure
from wavejax.tradeoff.curves import load_curves as load_curves
from wavejax.tradeoff.curves import plateau_summary as plateau_summary
from wavejax.tradeoff.curves import training_rows as training_rows
from wavejax.tradeoff.data import TASKS as TASKS
from wavejax.tradeoff.data import TaskData as TaskData
from wavejax.tradeoff.data import encode as encode
from wavejax.tradeoff.data import hmm_size as hmm_size
from wavejax.tradeoff.data import make_batch_fn as make_batch_fn
from wavejax.tradeoff.data import make_eval_loss_fn as make_eval_loss_fn
from wavejax.tradeoff.data import make_loss_fn as make_loss_fn
from wavejax.tradeoff.data import make_task as make_task
from wavejax.tradeoff.figures import excess_figure as excess_figure
from wavejax.tradeoff.figures import frontier_figures as frontier_figures
from wavejax.tradeoff.figures import sweep_figure as sweep_figure
from wavejax.tradeoff.fits import PhaseFit as PhaseFit
from wavejax.tradeoff.fits import PowerLawFit as PowerLawFit
from wavejax.tradeoff.fits import bootstrap_ci as bootstrap_ci
from wavejax.tradeoff.fits import fit_phases as fit_phases
from wavejax.tradeoff.fits import fit_power_law as fit_power_law
from wavejax.tradeoff.fits import piecewise_predict as piecewise_predict
from wavejax.tradeoff.frontier import family_fronts as family_fronts
from wavejax.tradeoff.frontier import front_curve as front_curve
from wavejax.tradeoff.frontier import gaussian_nats as gaussian_nats
from wavejax.tradeoff.frontier import mdl_lengths as mdl_lengths
from wavejax.tradeoff.frontier import minimal_sufficient as minimal_sufficient
from wavejax.tradeoff.frontier import pareto_front as pareto_front
from wavejax.tradeoff.ladder import evaluate_stack as evaluate_stack
from wavejax.tradeoff.ladder import ladder_points as ladder_points
from wavejax.tradeoff.ladder import member_diverged as member_diverged
from wavejax.tradeoff.models import FAMILIES as FAMILIES
from wavejax.tradeoff.models import PACKABLE as PACKABLE
from wavejax.tradeoff.models import LatticeAttention as LatticeAttention
from wavejax.tradeoff.models import LatticeLinear as LatticeLinear
from wavejax.tradeoff.models import macs_per_step as macs_per_step
from wavejax.tradeoff.models import make_model as make_model
from wavejax.tradeoff.models import state_bits as state_bits
from wavejax.tradeoff.pack import pad_params as pad_params
from wavejax.tradeoff.pack import train_packed as train_packed
from wavejax.tradeoff.pack import unpad_params as unpad_params
from wavejax.tradeoff.predictors import global_mean as global_mean
from wavejax.tradeoff.predictors import integer_table_bits as integer_table_bits
from wavejax.tradeoff.predictors import last_value as last_value
from wavejax.tradeoff.predictors import ngram_real as ngram_real
from wavejax.tradeoff.predictors import ngram_symbols as ngram_symbols
from wavejax.tradeoff.predictors import trivial_points as trivial_points
from wavejax.tradeoff.sweep import FULL_HMM as FULL_HMM
from wavejax.tradeoff.sweep import SweepConfig as SweepConfig
from wavejax.tradeoff.sweep import load_points as load_points
from wavejax.tradeoff.sweep import run_sweep as run_sweep
from wavejax.tradeoff.sweep import task_summary as task_summary
from wavejax.tradeoff.tasks import HMM as HMM
from wavejax.tradeoff.tasks import SwitchingAR as SwitchingAR
from wavejax.tradeoff.tasks import hmm_entropy_rate as hmm_entropy_rate
from wavejax.tradeoff.tasks import hmm_forward_nll as hmm_forward_nll
from wavejax.tradeoff.tasks import hmm_sample as hmm_sample
from wavejax.tradeoff.tasks import load_traces as load_traces
from wavejax.tradeoff.tasks import normalise as normalise  # deprecated alias (not in __all__)
from wavejax.tradeoff.tasks import normalize as normalize
from wavejax.tradeoff.tasks import split_programs as split_programs
from wavejax.tradeoff.tasks import switching_ar as switching_ar
from wavejax.tradeoff.tasks import switching_ar_params as switching_ar_params
from wavejax.tradeoff.tasks import unifilar_hmm as unifilar_hmm
from wavejax.tradeoff.tasks import windows as windows

__all__ = [
    "BITS_LADDER", "CacheConfig", "FAMILIES", "FULL_HMM", "HMM", "KERNELS", "LatticeAttention", "LatticeLinear",
    "PACKABLE", "PhaseFit", "PowerLawFit", "SCALE_BITS", "SweepConfig", "SwitchingAR", "TASKS", "TaskData", "analyze",
    "bootstrap_ci", "compress_sizes", "compressed_bits", "compression_costs", "compression_shift", "cost_span",
    "curves_figure", "dequantize", "empirical_entropy_bits", "encode", "evaluate_stack", "excess_figure",
    "family_fronts", "fit_phases", "fit_power_law", "front_curve", "frontier_figures", "gaussian_nats", "global_mean",
    "hmm_entropy_rate", "hmm_forward_nll", "hmm_sample", "hmm_size", "integer_table_bits", "kernel_addresses",
    "ladder_points", "last_value", "load_curves", "load_points", "load_traces", "macs_per_step", "make_batch_fn",
    "make_eval_loss_fn", "make_loss_fn", "make_model", "make_task", "mdl_lengths", "member_diverged",
    "minimal_sufficient", "ngram_real", "ngram_symbols", "nonzeros", "normalize", "packed_bits", "pad_params",
    "param_count", "pareto_front", "phase_summary", "phase_verdict", "piecewise_predict", "plateau_summary",
    "program_addresses", "program_trace", "program_traces", "quantize", "raw_bits", "run_sweep", "serialize",
    "simulate_cache", "split_programs", "state_bits", "switching_ar", "switching_ar_params", "sweep_figure",
    "task_summary", "train_packed", "training_rows", "trivial_points", "unifilar_hmm", "unpad_params", "usable_points",
    "windows",
]
