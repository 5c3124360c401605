"""Traveling-wave working memory (Karuvally, Sejnowski, Siegelmann, ICML 2024; spec wave.md)."""

from wavejax.wave.hds import NAMED_TASKS as NAMED_TASKS
from wavejax.wave.hds import binary_task_batch as binary_task_batch
from wavejax.wave.hds import binary_vb_task as binary_vb_task
from wavejax.wave.hds import decode_task as decode_task
from wavejax.wave.hds import fibonacci as fibonacci
from wavejax.wave.hds import nonlinear_hds as nonlinear_hds
from wavejax.wave.hds import operator_to_phi as operator_to_phi
from wavejax.wave.hds import phi_to_operator as phi_to_operator
from wavejax.wave.hds import varma as varma

__all__ = ["NAMED_TASKS", "binary_task_batch", "binary_vb_task", "decode_task", "fibonacci", "nonlinear_hds",
           "operator_to_phi", "phi_to_operator", "varma"]
