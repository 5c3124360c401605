"""One training engine for sequence RNNs (models + jitted, vmapped, checkpointed training; docs/rnn.md)."""

from wavejax.rnn._evaluation import evaluate as evaluate
from wavejax.rnn._metrics import masked_mse as masked_mse
from wavejax.rnn._metrics import sign_accuracy as sign_accuracy
from wavejax.rnn._models import LSTM as LSTM
from wavejax.rnn._models import Elman as Elman
from wavejax.rnn._models import LinearRNN as LinearRNN
from wavejax.rnn._models import WaveRNN as WaveRNN
from wavejax.rnn._models import elman_recurrence as elman_recurrence
from wavejax.rnn._models import sym_uniform as sym_uniform
from wavejax.rnn._optim import AdamState as AdamState
from wavejax.rnn._optim import make_optimizer as make_optimizer
from wavejax.rnn._step import TrainConfig as TrainConfig
from wavejax.rnn._step import TrainState as TrainState
from wavejax.rnn._step import init_state as init_state
from wavejax.rnn._step import train_step as train_step
from wavejax.rnn._train import TrainResult as TrainResult
from wavejax.rnn._train import train as train

__all__ = [
    "AdamState", "Elman", "LSTM", "LinearRNN", "TrainConfig", "TrainResult", "TrainState", "WaveRNN",
    "elman_recurrence", "evaluate", "init_state", "make_optimizer", "masked_mse", "sign_accuracy", "sym_uniform",
    "train", "train_step",
]
