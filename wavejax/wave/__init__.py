"""Traveling-wave working memory (Karuvally, Sejnowski, Siegelmann, ICML 2024; guide: docs/wave.md).

The lattice (``rollout``, ``step``), boundary functions (``linear_boundary``, ``attention_boundary``, any callable),
history-dependent systems (``varma``, ``fibonacci``, ``nonlinear_hds``), the matrix view and hidden bases
(``lbc_matrix``, ``embed``, ``extract_wave_basis``), and gradient-vs-lag analysis. The binary task family
(``binary_vb_task``, ``decode_task``, ``lag_matrices``, ``task_batch``) lives in :mod:`wavejax.tasks`.
"""

from wavejax.wave._basis import autonomous_period as autonomous_period
from wavejax.wave._basis import embed as embed
from wavejax.wave._basis import extract_wave_basis as extract_wave_basis
from wavejax.wave._basis import lbc_matrix as lbc_matrix
from wavejax.wave._basis import nonzero_spectrum as nonzero_spectrum
from wavejax.wave._basis import random_basis as random_basis
from wavejax.wave._basis import shift_matrix as shift_matrix
from wavejax.wave._basis import spectrum as spectrum
from wavejax.wave._basis import wave_basis_from_rnn as wave_basis_from_rnn
from wavejax.wave._basis import wave_coordinates as wave_coordinates
from wavejax.wave._basis import write_read as write_read
from wavejax.wave._boundary import AttentionBoundary as AttentionBoundary
from wavejax.wave._boundary import LinearBoundary as LinearBoundary
from wavejax.wave._boundary import attention_boundary as attention_boundary
from wavejax.wave._boundary import linear_boundary as linear_boundary
from wavejax.wave._gradients import gradient_vs_lag as gradient_vs_lag
from wavejax.wave._gradients import lattice_runner as lattice_runner
from wavejax.wave._gradients import random_rnn as random_rnn
from wavejax.wave._gradients import rnn_runner as rnn_runner
from wavejax.wave._hds import fibonacci as fibonacci
from wavejax.wave._hds import nonlinear_hds as nonlinear_hds
from wavejax.wave._hds import varma as varma
from wavejax.wave._lattice import INPUT_MODES as INPUT_MODES
from wavejax.wave._lattice import rollout as rollout
from wavejax.wave._lattice import step as step
from wavejax.wave._probe import probe_315 as probe_315

__all__ = [
    "AttentionBoundary", "INPUT_MODES", "LinearBoundary", "attention_boundary", "autonomous_period", "embed",
    "extract_wave_basis", "fibonacci", "gradient_vs_lag", "lattice_runner", "lbc_matrix", "linear_boundary",
    "nonlinear_hds", "nonzero_spectrum", "probe_315", "random_basis", "random_rnn", "rnn_runner", "rollout",
    "shift_matrix", "spectrum", "step", "varma", "wave_basis_from_rnn", "wave_coordinates", "write_read",
]
