"""Weight sharing between GAN generator and critic (Shared-WGAN, arXiv:1802.07401; guide: docs/gan.md).

Models (``Generator``, ``Critic``, ``init_params``), the losses (``critic_loss``, ``generator_loss``: the original
+-1-label sigmoid cross-entropy, plain WGAN, WGAN-GP), two-player training with TF1 RMSProp, weight clipping and the
D -> G kernel copy (``GANConfig``, ``create_states``, ``outer_step``, ``train``), evaluation (``train_classifier``,
``classifier_entropy``, ``feature_fid``) and the kernel-similarity study with its null baselines
(``best_match_cosine``, ``null_baselines``, ``similarity_report``).
"""

from wavejax.gan._data import load_mnist_5k as load_mnist_5k
from wavejax.gan._data import read_idx as read_idx
from wavejax.gan._evaluate import ClassifierConfig as ClassifierConfig
from wavejax.gan._evaluate import TrainedClassifier as TrainedClassifier
from wavejax.gan._evaluate import classifier_entropy as classifier_entropy
from wavejax.gan._evaluate import feature_fid as feature_fid
from wavejax.gan._evaluate import train_classifier as train_classifier
from wavejax.gan._losses import LOSSES as LOSSES
from wavejax.gan._losses import critic_loss as critic_loss
from wavejax.gan._losses import generator_loss as generator_loss
from wavejax.gan._losses import gradient_penalty as gradient_penalty
from wavejax.gan._models import Critic as Critic
from wavejax.gan._models import Generator as Generator
from wavejax.gan._models import count_params as count_params
from wavejax.gan._models import init_params as init_params
from wavejax.gan._run import GANRun as GANRun
from wavejax.gan._run import sample as sample
from wavejax.gan._run import train as train
from wavejax.gan._similarity import NULLS as NULLS
from wavejax.gan._similarity import aligned_cosine as aligned_cosine
from wavejax.gan._similarity import best_match_cosine as best_match_cosine
from wavejax.gan._similarity import null_baselines as null_baselines
from wavejax.gan._similarity import similarity_report as similarity_report
from wavejax.gan._study import StudyConfig as StudyConfig
from wavejax.gan._study import run_study as run_study
from wavejax.gan._train import SHARINGS as SHARINGS
from wavejax.gan._train import GANConfig as GANConfig
from wavejax.gan._train import GANTrainState as GANTrainState
from wavejax.gan._train import clip_params as clip_params
from wavejax.gan._train import copy_shared as copy_shared
from wavejax.gan._train import create_states as create_states
from wavejax.gan._train import critic_phase as critic_phase
from wavejax.gan._train import generator_step as generator_step
from wavejax.gan._train import outer_step as outer_step
from wavejax.gan._train import rmsprop_tf1 as rmsprop_tf1

__all__ = [
    "ClassifierConfig", "Critic", "GANConfig", "GANRun", "GANTrainState", "Generator", "LOSSES", "NULLS", "SHARINGS",
    "StudyConfig", "TrainedClassifier", "aligned_cosine", "best_match_cosine", "classifier_entropy", "clip_params",
    "copy_shared", "count_params", "create_states", "critic_loss", "critic_phase", "feature_fid", "generator_loss",
    "generator_step", "gradient_penalty", "init_params", "load_mnist_5k", "null_baselines", "outer_step", "read_idx",
    "rmsprop_tf1", "run_study", "sample", "similarity_report", "train", "train_classifier",
]
