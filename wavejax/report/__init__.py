"""Figures and the reproduction report."""

from wavejax.report._experiment import Experiment as Experiment
from wavejax.report._experiment import Result as Result
from wavejax.report._experiment import Row as Row
from wavejax.report._experiment import Scale as Scale
from wavejax.report._experiment import row as row
from wavejax.report._plots import eigen_plot as eigen_plot
from wavejax.report._plots import heatmap as heatmap
from wavejax.report._plots import line_plot as line_plot
from wavejax.report._reproduce import reproduce as reproduce

__all__ = [
    "Experiment", "Result", "Row", "Scale", "eigen_plot", "heatmap", "line_plot", "reproduce", "row",
]
