"""Traveling-wave working memory (Karuvally, Sejnowski, Siegelmann, ICML 2024; guide: docs/wave.md).

The lattice (``rollout``, ``step``), boundary functions (``linear_boundary``, ``attention_boundary``, any callable),
history-dependent systems and the binary task family (``decode_task``, ``lag_matrices``, ``task_batch``: the shared
module :mod:`wavejax.tasks`), the matrix view
and hidden bases (``lbc_matrix``, ``embed``, ``extract_wave_basis``), and gradient-vs-lag analysis.
"""

from wavejax.tasks import NAMED_TASKS as NAMED_TASKS
from wavejax.tasks import binary_vb_task as binary_vb_task
from wavejax.tasks import decode_task as decode_task
from wavejax.tasks import lag_matrices as lag_matrices
from wavejax.tasks import parse_task_id as parse_task_id
from wavejax.tasks import phi_to_operator as phi_to_operator
from wavejax.tasks import task_batch as task_batch
from wavejax.wave.basis import autonomous_period as autonomous_period
from wavejax.wave.basis import embed as embed
from wavejax.wave.basis import extract_wave_basis as extract_wave_basis
from wavejax.wave.basis import lbc_matrix as lbc_matrix
from wavejax.wave.basis import nonzero_spectrum as nonzero_spectrum
from wavejax.wave.basis import random_basis as random_basis
from wavejax.wave.basis import shift_matrix as shift_matrix
from wavejax.wave.basis import spectrum as spectrum
from wavejax.wave.basis import wave_basis_from_rnn as wave_basis_from_rnn
from wavejax.wave.basis import wave_coordinates as wave_coordinates
from wavejax.wave.basis import write_read as write_read
from wavejax.wave.boundary import AttentionBoundary as AttentionBoundary
from wavejax.wave.boundary import LinearBoundary as LinearBoundary
from wavejax.wave.boundary import attention_boundary as attention_boundary
from wavejax.wave.boundary import linear_boundary as linear_boundary
from wavejax.wave.gradients import gradient_vs_lag as gradient_vs_lag
from wavejax.wave.gradients import lattice_runner as lattice_runner
from wavejax.wave.gradients import random_rnn as random_rnn
from wavejax.wave.gradients import rnn_runner as rnn_runner
from wavejax.wave.hds import binary_task_batch as binary_task_batch  # deprecated (use task_batch), not in __all__
from wavejax.wave.hds import fibonacci as fibonacci
from wavejax.wave.hds import nonlinear_hds as nonlinear_hds
from wavejax.wave.hds import operator_to_phi as operator_to_phi  # deprecated (use lag_matrices), not in __all__
from wavejax.wave.hds import varma as varma
from wavejax.wave.lattice import INPUT_MODES as INPUT_MODES
from wavejax.wave.lattice import rollout as rollout
from wavejax.wave.lattice import step as step
from wavejax.wave.probe import probe_315 as probe_315

__all__ = [
    "AttentionBoundary", "INPUT_MODES", "LinearBoundary", "NAMED_TASKS", "attention_boundary", "autonomous_period",
    "binary_vb_task", "decode_task", "embed", "extract_wave_basis", "fibonacci", "gradient_vs_lag", "lag_matrices",
    "lattice_runner", "lbc_matrix", "linear_boundary", "nonlinear_hds", "nonzero_spectrum", "parse_task_id",
    "phi_to_operator", "probe_315", "random_basis", "random_rnn", "rnn_runner", "rollout", "shift_matrix", "spectrum",
    "step", "task_batch", "varma", "wave_basis_from_rnn", "wave_coordinates", "write_read",
]
