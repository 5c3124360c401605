"""General Sequential Episodic Memory Model (Karuvally, Sejnowski, Siegelmann, ICML 2023; guide: docs/gsemm.md).

Vector fields and energies of LISEM, DSEM, polynomial DSEM and ExpSM (``models``; every :class:`Model` is a
Diffrax vector field ``f(t, y, args)``), the one solve with a :class:`SolverConfig` and failures as data
(``solve``: ``Trajectory.result``), the public entry points ``simulate`` / ``simulate_batch``, retrieval metrics
(``overlaps``, ``decode``, dwell law), the moving energy minimum (``moving_minimum``), sequence capacity sweeps
(``capacity_curve``) and online learning (``learn`` with the rules of ``learning`` and ``online``).
Indices are 0-based: the spec's memory 1 is column 0 of Xi.
"""

from wavejax.gsemm.batch import STRATEGIES as STRATEGIES
from wavejax.gsemm.batch import simulate_batch as simulate_batch
from wavejax.gsemm.capacity import CAPACITY_NETWORKS as CAPACITY_NETWORKS
from wavejax.gsemm.capacity import CAPACITY_PRESETS as CAPACITY_PRESETS  # deprecated alias (not in __all__)
from wavejax.gsemm.capacity import CapacityNetwork as CapacityNetwork
from wavejax.gsemm.capacity import capacity_curve as capacity_curve
from wavejax.gsemm.capacity import capacity_search as capacity_search
from wavejax.gsemm.capacity import cycle_pass as cycle_pass
from wavejax.gsemm.capacity import cycle_trial as cycle_trial
from wavejax.gsemm.capacity import fit_growth as fit_growth
from wavejax.gsemm.landscape import MovingMinimum as MovingMinimum
from wavejax.gsemm.landscape import energy as energy
from wavejax.gsemm.landscape import minimise as minimise  # deprecated alias (not in __all__)
from wavejax.gsemm.landscape import minimize as minimize
from wavejax.gsemm.landscape import moving_minimum as moving_minimum
from wavejax.gsemm.learning import COMPETITIVE as COMPETITIVE
from wavejax.gsemm.learning import ENERGY as ENERGY
from wavejax.gsemm.learning import RULES as RULES
from wavejax.gsemm.learning import CompetitiveConfig as CompetitiveConfig
from wavejax.gsemm.learning import EnergyRuleConfig as EnergyRuleConfig
from wavejax.gsemm.learning import LearningRule as LearningRule
from wavejax.gsemm.learning import LearnState as LearnState
from wavejax.gsemm.learning import competitive_readout as competitive_readout
from wavejax.gsemm.learning import competitive_rule as competitive_rule
from wavejax.gsemm.learning import energy_rule as energy_rule
from wavejax.gsemm.learning import learn as learn
from wavejax.gsemm.learning import learn_phi_clamped as learn_phi_clamped  # deprecated alias (not in __all__)
from wavejax.gsemm.learning import learn_sequence as learn_sequence  # deprecated alias (not in __all__)
from wavejax.gsemm.learning import recall_learned as recall_learned
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
from wavejax.gsemm.models import EXPSM as EXPSM
from wavejax.gsemm.models import LISEM as LISEM
from wavejax.gsemm.models import MODELS as MODELS
from wavejax.gsemm.models import Lagrangian as Lagrangian
from wavejax.gsemm.models import Model as Model
from wavejax.gsemm.models import Params as Params
from wavejax.gsemm.models import energy_params as energy_params
from wavejax.gsemm.models import hidden_input as hidden_input
from wavejax.gsemm.models import make_params as make_params
from wavejax.gsemm.models import overlap_fn as overlap_fn
from wavejax.gsemm.models import vector_field as vector_field
from wavejax.gsemm.models import vector_field_h as vector_field_h
from wavejax.gsemm.online import CONTRASTIVE as CONTRASTIVE
from wavejax.gsemm.online import OnlineConfig as OnlineConfig
from wavejax.gsemm.online import OnlineScalars as OnlineScalars
from wavejax.gsemm.online import contrastive_recall as contrastive_recall
from wavejax.gsemm.online import contrastive_runs as contrastive_runs
from wavejax.gsemm.online import contrastive_step as contrastive_step
from wavejax.gsemm.online import count_links as count_links
from wavejax.gsemm.online import cpp_decode as cpp_decode
from wavejax.gsemm.online import free_recall as free_recall  # deprecated alias (not in __all__)
from wavejax.gsemm.online import online_learn as online_learn  # deprecated alias (not in __all__)
from wavejax.gsemm.online import recall_score as recall_score
from wavejax.gsemm.simulate import cycle_memories as cycle_memories
from wavejax.gsemm.simulate import simulate as simulate
from wavejax.gsemm.simulate import solve_params as solve_params  # deprecated alias (not in __all__)
from wavejax.gsemm.solve import RESULT_CODES as RESULT_CODES
from wavejax.gsemm.solve import RK4 as RK4
from wavejax.gsemm.solve import SOLVERS as SOLVERS
from wavejax.gsemm.solve import SolverConfig as SolverConfig
from wavejax.gsemm.solve import Trajectory as Trajectory
from wavejax.gsemm.solve import result_name as result_name
from wavejax.gsemm.solve import save_grid as save_grid
from wavejax.gsemm.solve import solve as solve

__all__ = [
    "COMPETITIVE", "CONTRASTIVE", "ENERGY",
    "CAPACITY_NETWORKS", "CapacityNetwork", "CompetitiveConfig", "DSEM", "DSEM_POLY", "Decoded", "EXPSM",
    "EnergyRuleConfig", "LISEM", "Lagrangian", "LearnState", "LearningRule", "MODELS", "Model", "MovingMinimum",
    "OnlineConfig", "OnlineScalars", "Params", "RESULT_CODES", "RK4", "RULES", "SOLVERS", "STRATEGIES",
    "SolverConfig", "Trajectory",
    "best_chain", "capacity_curve", "capacity_search", "competitive_readout", "competitive_rule",
    "contrastive_recall", "contrastive_runs", "contrastive_step", "count_links", "cpp_decode", "cycle_memories",
    "cycle_pass",
    "cycle_successors", "cycle_trial", "decode", "dwell_prediction", "dwell_stats", "energy", "energy_params",
    "energy_rule", "fit_growth", "follows_graph", "hidden_input", "learn", "make_params", "minimize",
    "model_overlaps", "moving_minimum", "overlap_fn", "overlaps", "recall_learned", "recall_score", "result_name",
    "save_grid", "simulate", "simulate_batch", "solve", "successors_from_phi", "transition_count", "vector_field",
    "vector_field_h",
]
