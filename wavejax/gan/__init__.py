"""Weight sharing between GAN generator and critic (Shared-WGAN, arXiv:1802.07401; guide: docs/gan.md).

Models (``Generator``, ``Critic``, ``init_params``), the losses (``critic_loss``, ``generator_loss``: the original
+-1-label sigmoid cross-entropy, plain WGAN, WGAN-GP), two-player training with TF1 RMSProp, weight clipping and the
D -> G kernel copy (``GANConfig``, ``create_states``, ``outer_step``, ``train``), evaluation (``train_classifier``,
``classifier_entropy``, ``feature_fid``) and the kernel-similarity study with its null baselines
(``best_match_cosine``, ``null_baselines``, ``similarity_report``).
"""

from wavejax.gan.data import load_digits as load_digits
from wavejax.gan.data import load_mnist as load_mnist
from wavejax.gan.data import load_mnist_5k as load_mnist_5k
from wavejax.gan.data import mnist_5k_path as mnist_5k_path
from wavejax.gan.data import read_idx as read_idx
from wavejax.gan.data import read_mnist_csv as read_mnist_csv
from wavejax.gan.data import split_train_test as split_train_test
from wavejax.gan.data import stratified_split as stratified_split
from wavejax.gan.data import write_idx as write_idx
from wavejax.gan.evaluate import ClassifierConfig as ClassifierConfig
from wavejax.gan.evaluate import MNISTClassifier as MNISTClassifier
from wavejax.gan.evaluate import TrainedClassifier as TrainedClassifier
from wavejax.gan.evaluate import classifier_entropy as classifier_entropy
from wavejax.gan.evaluate import classifier_entropy_from_probs as classifier_entropy_from_probs
from wavejax.gan.evaluate import classifier_features as classifier_features
from wavejax.gan.evaluate import classifier_logits as classifier_logits
from wavejax.gan.evaluate import diff_ci as diff_ci
from wavejax.gan.evaluate import feature_fid as feature_fid
from wavejax.gan.evaluate import mean_ci as mean_ci
from wavejax.gan.evaluate import predictive_entropy as predictive_entropy
from wavejax.gan.evaluate import random_probability_entropy as random_probability_entropy
from wavejax.gan.evaluate import random_shift as random_shift
from wavejax.gan.evaluate import train_classifier as train_classifier
from wavejax.gan.losses import LOSSES as LOSSES
from wavejax.gan.losses import critic_loss as critic_loss
from wavejax.gan.losses import generator_loss as generator_loss
from wavejax.gan.losses import gradient_penalty as gradient_penalty
from wavejax.gan.losses import sigmoid_xent_pm1 as sigmoid_xent_pm1
from wavejax.gan.models import SHARED_LAYERS as SHARED_LAYERS
from wavejax.gan.models import Z_DIM as Z_DIM
from wavejax.gan.models import Critic as Critic
from wavejax.gan.models import Generator as Generator
from wavejax.gan.models import count_params as count_params
from wavejax.gan.models import critic_spatial_sizes as critic_spatial_sizes
from wavejax.gan.models import init_params as init_params
from wavejax.gan.run import GANRun as GANRun
from wavejax.gan.run import init_states as init_states
from wavejax.gan.run import load_training_data as load_training_data
from wavejax.gan.run import sample as sample
from wavejax.gan.run import sample_seeds as sample_seeds
from wavejax.gan.run import seed_slice as seed_slice
from wavejax.gan.run import train as train
from wavejax.gan.similarity import NULLS as NULLS
from wavejax.gan.similarity import aligned_cosine as aligned_cosine
from wavejax.gan.similarity import best_match_cosine as best_match_cosine
from wavejax.gan.similarity import clip_fraction as clip_fraction
from wavejax.gan.similarity import format_similarity_report as format_similarity_report
from wavejax.gan.similarity import ks_2samp as ks_2samp
from wavejax.gan.similarity import null_baselines as null_baselines
from wavejax.gan.similarity import similarity_report as similarity_report
from wavejax.gan.study import StudyConfig as StudyConfig
from wavejax.gan.study import classifier_data as classifier_data
from wavejax.gan.study import run_study as run_study
from wavejax.gan.train import SHARINGS as SHARINGS
from wavejax.gan.train import GANConfig as GANConfig
from wavejax.gan.train import GANTrainState as GANTrainState
from wavejax.gan.train import clip_params as clip_params
from wavejax.gan.train import copy_shared as copy_shared
from wavejax.gan.train import create_states as create_states
from wavejax.gan.train import critic_phase as critic_phase
from wavejax.gan.train import generator_labels as generator_labels
from wavejax.gan.train import generator_step as generator_step
from wavejax.gan.train import outer_step as outer_step
from wavejax.gan.train import rmsprop_tf1 as rmsprop_tf1
from wavejax.gan.train import train_steps  # noqa: F401 -- deprecated alias, out of __all__

__all__ = [
    "ClassifierConfig", "Critic", "GANConfig", "GANRun", "GANTrainState", "Generator", "LOSSES", "MNISTClassifier",
    "NULLS", "SHARED_LAYERS", "SHARINGS", "StudyConfig", "TrainedClassifier", "Z_DIM", "aligned_cosine",
    "best_match_cosine", "classifier_data", "classifier_entropy", "classifier_entropy_from_probs",
    "classifier_features", "classifier_logits", "clip_fraction", "clip_params", "copy_shared", "count_params",
    "create_states", "critic_loss", "critic_phase", "critic_spatial_sizes", "diff_ci", "feature_fid",
    "format_similarity_report", "generator_labels", "generator_loss", "generator_step", "gradient_penalty",
    "init_params", "init_states", "ks_2samp", "load_digits", "load_mnist", "load_mnist_5k", "load_training_data",
    "mean_ci", "mnist_5k_path", "null_baselines", "outer_step", "predictive_entropy", "random_probability_entropy",
    "random_shift", "read_idx", "read_mnist_csv", "rmsprop_tf1", "run_study", "sample", "sample_seeds", "seed_slice",
    "sigmoid_xent_pm1", "similarity_report", "split_train_test", "stratified_split", "train", "train_classifier",
    "write_idx",
]
