"""Episodic Memory Theory (Karuvally, Delmastro, Siegelmann, arXiv:2310.02430; guide: docs/emt.md).

The horizon curriculum on the shared task module :mod:`wavejax.tasks` (task ids, lag matrices and batches live
there, not here), the variable-binding circuit Phi and its linear circuit RNN, training on the shared engine
(:mod:`wavejax.rnn`), the spectral metric, the privileged basis with the circuit-match metrics, and the analyses /
figures of a trained RNN.
"""

from wavejax.emt._analysis import analyze_rnn as analyze_rnn
from wavejax.emt._analysis import gradient_profile as gradient_profile
from wavejax.emt._analysis import probe_inputs as probe_inputs
from wavejax.emt._circuit import circuit_error as circuit_error
from wavejax.emt._circuit import circuit_matrix as circuit_matrix
from wavejax.emt._circuit import circuit_rnn as circuit_rnn
from wavejax.emt._circuit import circuit_rollout as circuit_rollout
from wavejax.emt._circuit import recurrent_positions as recurrent_positions
from wavejax.emt._circuit import unit_count as unit_count
from wavejax.emt._figures import plot_gradients as plot_gradients
from wavejax.emt._figures import plot_memories as plot_memories
from wavejax.emt._figures import plot_phi_emp as plot_phi_emp
from wavejax.emt._figures import plot_spectrum as plot_spectrum
from wavejax.emt._privileged import PrivilegedBasis as PrivilegedBasis
from wavejax.emt._privileged import block_tracking as block_tracking
from wavejax.emt._privileged import dual_error as dual_error
from wavejax.emt._privileged import phi_emp as phi_emp
from wavejax.emt._privileged import predicted_block as predicted_block
from wavejax.emt._privileged import privileged_basis as privileged_basis
from wavejax.emt._privileged import readout_fraction as readout_fraction
from wavejax.emt._privileged import structure_metrics as structure_metrics
from wavejax.emt._privileged import variable_memories as variable_memories
from wavejax.emt._spectral import dominant_eigenvalues as dominant_eigenvalues
from wavejax.emt._spectral import spectral_error as spectral_error
from wavejax.emt._table import PAPER_TABLE as PAPER_TABLE
from wavejax.emt._table import TableConfig as TableConfig
from wavejax.emt._table import table_cells as table_cells
from wavejax.emt._table import table_sweep as table_sweep
from wavejax.emt._tasks import CURRICULUM as CURRICULUM
from wavejax.emt._tasks import curriculum_batch_fn as curriculum_batch_fn
from wavejax.emt._training import EMTConfig as EMTConfig
from wavejax.emt._training import EMTRun as EMTRun
from wavejax.emt._training import evaluate_members as evaluate_members
from wavejax.emt._training import init_params as init_params
from wavejax.emt._training import train_sweep as train_sweep
from wavejax.emt._training import train_task as train_task

__all__ = [
    "CURRICULUM", "EMTConfig", "EMTRun", "PAPER_TABLE", "PrivilegedBasis", "TableConfig", "analyze_rnn",
    "block_tracking", "circuit_error", "circuit_matrix", "circuit_rnn", "circuit_rollout", "curriculum_batch_fn",
    "dominant_eigenvalues", "dual_error", "evaluate_members", "gradient_profile", "init_params", "phi_emp",
    "plot_gradients", "plot_memories", "plot_phi_emp", "plot_spectrum", "predicted_block", "privileged_basis",
    "probe_inputs", "readout_fraction", "recurrent_positions", "spectral_error", "structure_metrics", "table_cells",
    "table_sweep", "train_sweep", "train_task", "unit_count", "variable_memories",
]
