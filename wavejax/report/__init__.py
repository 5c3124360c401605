"""Figures and the reproduction report."""

from wavejax.report.experiment import Experiment as Experiment
from wavejax.report.experiment import Result as Result
from wavejax.report.experiment import Row as Row
from wavejax.report.experiment import Scale as Scale
from wavejax.report.experiment import row as row
from wavejax.report.plots import eigen_plot as eigen_plot
from wavejax.report.plots import heatmap as heatmap
from wavejax.report.plots import hist_plot as hist_plot
from wavejax.report.plots import image_grid as image_grid
from wavejax.report.plots import line_plot as line_plot
from wavejax.report.plots import save_figure as save_figure
from wavejax.report.plots import scatter_plot as scatter_plot
from wavejax.report.reproduce import reproduce as reproduce

__all__ = ["Experiment", "Result", "Row", "Scale", "row", "eigen_plot", "heatmap", "hist_plot", "image_grid",
           "line_plot", "save_figure", "scatter_plot", "reproduce"]
