"""General Sequential Episodic Memory Model (Karuvally, Sejnowski, Siegelmann, ICML 2023; spec gsemm.md).

Vector fields and energies of LISEM, DSEM and polynomial DSEM (``models``), Diffrax / fixed-step simulation
(``simulate``, ``simulate_batch``), retrieval metrics (``overlaps``, ``decode``, dwell law), the moving energy
minimum (``moving_minimum``), sequence capacity sweeps (``capacity_curve``) and online learning (``learning``).
Indices are 0-based: the spec's memory 1 is column 0 of Xi.
"""

from wavejax.gsemm.batch import STRATEGIES as STRATEGIES
from wavejax.gsemm.batch import simulate_batch as simulate_batch
from wavejax.gsemm.capacity import CAPACITY_PRESETS as CAPACITY_PRESETS
from wavejax.gsemm.capacity import capacity_curve as capacity_curve
from wavejax.gsemm.capacity import capacity_search as capacity_search
from wavejax.gsemm.capacity import cycle_pass as cycle_pass
from wavejax.gsemm.capacity import cycle_trial as cycle_trial
from wavejax.gsemm.capacity import fit_growth as fit_growth
from wavejax.gsemm.landscape import MovingMinimum as MovingMinimum
from wavejax.gsemm.landscape import energy as energy
from wavejax.gsemm.landscape import minimise as minimise
from wavejax.gsemm.landscape import moving_minimum as moving_minimum
from wavejax.gsemm.learning import LearnState as LearnState
from wavejax.gsemm.learning import OnlineConfig as OnlineConfig
from wavejax.gsemm.learning import free_recall as free_recall
from wavejax.gsemm.learning import learn_phi_clamped as learn_phi_clamped
from wavejax.gsemm.learning import learn_sequence as learn_sequence
from wavejax.gsemm.learning import online_learn as online_learn
from wavejax.gsemm.learning import recall_learned as recall_learned
from wavejax.gsemm.learning import recall_score as recall_score
from wavejax.gsemm.metrics import Decoded as Decoded
from wavejax.gsemm.metrics import best_chain as best_chain
from wavejax.gsemm.metrics import cycle_successors as cycle_successors
from wavejax.gsemm.metrics import decode as decode
from wavejax.gsemm.metrics import dwell_prediction as dwell_prediction
from wavejax.gsemm.metrics import dwell_stats as dwell_stats
from wavejax.gsemm.metrics import follows_graph as follows_graph
from wavejax.gsemm.metrics import model_overlaps as model_overlaps
from wavejax.gsemm.metrics import overlaps as overlaps
from wavejax.gsemm.metrics import successors_from_phi as successors_from_phi
from wavejax.gsemm.metrics import transition_count as transition_count
from wavejax.gsemm.models import DSEM as DSEM
from wavejax.gsemm.models import DSEM_POLY as DSEM_POLY
from wavejax.gsemm.models import LISEM as LISEM
from wavejax.gsemm.models import MODELS as MODELS
from wavejax.gsemm.models import Lagrangian as Lagrangian
from wavejax.gsemm.models import Model as Model
from wavejax.gsemm.models import Params as Params
from wavejax.gsemm.models import energy_params as energy_params
from wavejax.gsemm.models import hidden_input as hidden_input
from wavejax.gsemm.models import make_params as make_params
from wavejax.gsemm.models import vector_field as vector_field
from wavejax.gsemm.models import vector_field_h as vector_field_h
from wavejax.gsemm.simulate import RK4 as RK4
from wavejax.gsemm.simulate import SOLVERS as SOLVERS
from wavejax.gsemm.simulate import Trajectory as Trajectory
from wavejax.gsemm.simulate import cycle_memories as cycle_memories
from wavejax.gsemm.simulate import simulate as simulate
from wavejax.gsemm.simulate import solve_params as solve_params

__all__ = [
    "CAPACITY_PRESETS", "DSEM", "DSEM_POLY", "Decoded", "LISEM", "Lagrangian", "LearnState", "MODELS", "Model",
    "MovingMinimum", "OnlineConfig", "Params", "RK4", "SOLVERS", "STRATEGIES", "Trajectory", "best_chain",
    "capacity_curve", "capacity_search", "cycle_memories", "cycle_pass", "cycle_successors", "cycle_trial", "decode",
    "dwell_prediction", "dwell_stats", "energy", "energy_params", "follows_graph", "fit_growth", "free_recall",
    "hidden_input", "learn_phi_clamped", "learn_sequence", "make_params", "minimise", "model_overlaps",
    "moving_minimum", "online_learn", "overlaps", "recall_learned", "recall_score", "simulate", "simulate_batch",
    "solve_params", "successors_from_phi", "transition_count", "vector_field", "vector_field_h",
]
