"""Episodic Memory Theory (Karuvally, Delmastro, Siegelmann, arXiv:2310.02430; guide: docs/emt.md).

Tasks (the shared task module :mod:`wavejax.tasks`, also used by :mod:`wavejax.wave`), the variable-binding
circuit Phi and its linear circuit RNN, training on the shared engine (:mod:`wavejax.rnn`), the spectral metric,
the privileged basis with the circuit-match metrics, and the analyses / figures of a trained RNN.
"""

from wavejax.emt.analysis import analyse_rnn as analyse_rnn  # deprecated alias (not in __all__)
from wavejax.emt.analysis import analyze_rnn as analyze_rnn
from wavejax.emt.analysis import gradient_profile as gradient_profile
from wavejax.emt.analysis import probe_inputs as probe_inputs
from wavejax.emt.circuit import circuit_error as circuit_error
from wavejax.emt.circuit import circuit_matrix as circuit_matrix
from wavejax.emt.circuit import circuit_rnn as circuit_rnn
from wavejax.emt.circuit import circuit_rollout as circuit_rollout
from wavejax.emt.circuit import phi_from_operator as phi_from_operator  # deprecated alias, not in __all__
from wavejax.emt.circuit import recurrent_positions as recurrent_positions
from wavejax.emt.circuit import unit_count as unit_count
from wavejax.emt.figures import analysis_figures as analysis_figures
from wavejax.emt.figures import plot_gradients as plot_gradients
from wavejax.emt.figures import plot_memories as plot_memories
from wavejax.emt.figures import plot_phi_emp as plot_phi_emp
from wavejax.emt.figures import plot_spectrum as plot_spectrum
from wavejax.emt.figures import plot_training as plot_training
from wavejax.emt.privileged import PrivilegedBasis as PrivilegedBasis
from wavejax.emt.privileged import block_tracking as block_tracking
from wavejax.emt.privileged import dual_error as dual_error
from wavejax.emt.privileged import grounded_basis as grounded_basis  # alias, not in __all__
from wavejax.emt.privileged import phi_emp as phi_emp
from wavejax.emt.privileged import predicted_block as predicted_block
from wavejax.emt.privileged import privileged_basis as privileged_basis
from wavejax.emt.privileged import readout_fraction as readout_fraction
from wavejax.emt.privileged import structure_metrics as structure_metrics
from wavejax.emt.privileged import variable_memories as variable_memories
from wavejax.emt.spectral import dominant_eigenvalues as dominant_eigenvalues
from wavejax.emt.spectral import spectral_comparison as spectral_comparison  # alias, not in __all__
from wavejax.emt.spectral import spectral_error as spectral_error
from wavejax.emt.table import PAPER_TABLE as PAPER_TABLE
from wavejax.emt.table import TableConfig as TableConfig
from wavejax.emt.table import format_table as format_table
from wavejax.emt.table import table_cells as table_cells
from wavejax.emt.table import table_sweep as table_sweep
from wavejax.emt.tasks import CURRICULUM as CURRICULUM
from wavejax.emt.tasks import TASKS as TASKS  # deprecated name of NAMED_TASKS, not in __all__
from wavejax.emt.tasks import curriculum_batch_fn as curriculum_batch_fn
from wavejax.emt.tasks import make_batch as make_batch  # deprecated (use task_batch), not in __all__
from wavejax.emt.tasks import task_id as task_id  # deprecated name of parse_task_id, not in __all__
from wavejax.emt.training import EMTConfig as EMTConfig
from wavejax.emt.training import EMTRun as EMTRun
from wavejax.emt.training import evaluate_members as evaluate_members
from wavejax.emt.training import init_params as init_params
from wavejax.emt.training import load_run as load_run
from wavejax.emt.training import save_run as save_run
from wavejax.emt.training import task_of as task_of
from wavejax.emt.training import train_sweep as train_sweep
from wavejax.emt.training import train_task as train_task
from wavejax.tasks import NAMED_TASKS as NAMED_TASKS
from wavejax.tasks import binary_vb_task as binary_vb_task
from wavejax.tasks import decode_task as decode_task
from wavejax.tasks import lag_matrices as lag_matrices
from wavejax.tasks import parse_task_id as parse_task_id
from wavejax.tasks import task_batch as task_batch
from wavejax.tasks import task_table as task_table

__all__ = [
    "CURRICULUM", "EMTConfig", "EMTRun", "NAMED_TASKS", "PAPER_TABLE", "PrivilegedBasis", "TableConfig", "analyze_rnn",
    "analysis_figures", "init_params", "table_cells", "table_sweep",
    "binary_vb_task", "block_tracking", "circuit_error", "circuit_matrix", "circuit_rnn", "circuit_rollout",
    "curriculum_batch_fn", "decode_task", "dominant_eigenvalues", "dual_error", "evaluate_members", "format_table",
    "gradient_profile", "lag_matrices", "load_run", "parse_task_id", "phi_emp", "plot_gradients", "plot_memories",
    "plot_phi_emp", "plot_spectrum", "plot_training", "predicted_block", "privileged_basis", "probe_inputs",
    "readout_fraction",
    "recurrent_positions", "save_run", "spectral_error", "structure_metrics", "task_batch", "task_of", "task_table",
    "train_sweep", "train_task", "unit_count", "variable_memories",
]
