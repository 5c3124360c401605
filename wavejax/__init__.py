"""wavejax: five research models of neural memory in JAX.

Sub-packages (import what you need; each re-exports a small public API):

* ``wavejax.wave``     traveling-wave working memory (lattice, boundaries, HDS tasks, wave basis, gradients)
* ``wavejax.rnn``      one training engine for sequence RNNs (Elman, linear, LSTM, wave-RNN)
* ``wavejax.emt``      Episodic Memory Theory (variable binding circuit, privileged basis)
* ``wavejax.gsemm``    LISEM / DSEM sequential episodic memory as adiabatic ODEs (Diffrax)
* ``wavejax.tradeoff`` cost-quality tradeoff of resource-constrained sequence predictors
* ``wavejax.gan``      the weight-shared GAN and its weight-similarity study
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
