"""Episodic Memory Theory (Karuvally, Delmastro, Siegelmann, arXiv:2310.02430; spec emt.md)."""

from wavejax.emt.spectral import dominant_eigenvalues as dominant_eigenvalues
from wavejax.emt.spectral import spectral_comparison as spectral_comparison
from wavejax.emt.spectral import spectral_error as spectral_error

__all__ = ["dominant_eigenvalues", "spectral_comparison", "spectral_error"]
