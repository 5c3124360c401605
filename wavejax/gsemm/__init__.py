"""General Sequential Episodic Memory Model (Karuvally, Sejnowski, Siegelmann, ICML 2023; guide: docs/gsemm.md).

Vector fields and energies of LISEM, DSEM, polynomial DSEM and ExpSM (``models``; every :class:`Model` is a
Diffrax vector field ``f(t, y, args)``), the one solve with a :class:`SolverConfig` and failures as data
(``solve``: ``Trajectory.result``), the public entry points ``simulate`` / ``simulate_batch``, retrieval metrics
(``overlaps``, ``decode``, dwell law), the moving energy minimum (``moving_minimum``), sequence capacity sweeps
(``capacity_curve``) and online learning (``learn`` with the rules of ``learning`` and ``online``).
Indices are 0-based: the spec's memory 1 is column 0 of Xi.
"""

from wavejax.gsemm._batch import simulate_batch as simulate_batch
from wavejax.gsemm._capacity import CapacityNetwork as CapacityNetwork
from wavejax.gsemm._capacity import capacity_curve as capacity_curve
from wavejax.gsemm._capacity import capacity_search as capacity_search
from wavejax.gsemm._capacity import fit_growth as fit_growth
from wavejax.gsemm._landscape import MovingMinimum as MovingMinimum
from wavejax.gsemm._landscape import energy as energy
from wavejax.gsemm._landscape import minimize as minimize
from wavejax.gsemm._landscape import moving_minimum as moving_minimum
from wavejax.gsemm._learn import RULES as RULES
from wavejax.gsemm._learn import learn as learn
from wavejax.gsemm._learning import CompetitiveConfig as CompetitiveConfig
from wavejax.gsemm._learning import EnergyRuleConfig as EnergyRuleConfig
from wavejax.gsemm._learning import LearningRule as LearningRule
from wavejax.gsemm._learning import LearnState as LearnState
from wavejax.gsemm._learning import competitive_readout as competitive_readout
from wavejax.gsemm._metrics import Decoded as Decoded
from wavejax.gsemm._metrics import decode as decode
from wavejax.gsemm._metrics import dwell_prediction as dwell_prediction
from wavejax.gsemm._metrics import dwell_stats as dwell_stats
from wavejax.gsemm._metrics import overlaps as overlaps
from wavejax.gsemm._models import DSEM as DSEM
from wavejax.gsemm._models import DSEM_POLY as DSEM_POLY
from wavejax.gsemm._models import EXPSM as EXPSM
from wavejax.gsemm._models import LISEM as LISEM
from wavejax.gsemm._models import MODELS as MODELS
from wavejax.gsemm._models import Model as Model
from wavejax.gsemm._models import Params as Params
from wavejax.gsemm._models import make_params as make_params
from wavejax.gsemm._online import OnlineConfig as OnlineConfig
from wavejax.gsemm._online import contrastive_recall as contrastive_recall
from wavejax.gsemm._online import recall_score as recall_score
from wavejax.gsemm._simulate import cycle_memories as cycle_memories
from wavejax.gsemm._simulate import simulate as simulate
from wavejax.gsemm._solve import RESULT_CODES as RESULT_CODES
from wavejax.gsemm._solve import SolverConfig as SolverConfig
from wavejax.gsemm._solve import Trajectory as Trajectory
from wavejax.gsemm._solve import result_name as result_name
from wavejax.gsemm._solve import save_grid as save_grid
from wavejax.gsemm._solve import solve as solve

__all__ = [
    "CapacityNetwork", "CompetitiveConfig", "DSEM", "DSEM_POLY", "Decoded", "EXPSM", "EnergyRuleConfig", "LISEM",
    "LearnState", "LearningRule", "MODELS", "Model", "MovingMinimum", "OnlineConfig", "Params", "RESULT_CODES",
    "RULES", "SolverConfig", "Trajectory", "capacity_curve", "capacity_search", "competitive_readout",
    "contrastive_recall", "cycle_memories", "decode", "dwell_prediction", "dwell_stats", "energy", "fit_growth",
    "learn", "make_params", "minimize", "moving_minimum", "overlaps", "recall_score", "result_name", "save_grid",
    "simulate", "simulate_batch", "solve",
]
