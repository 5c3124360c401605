"""The bad-input battery (issue 14 item 6): every package, each case asserting the exception type AND that the
message names the argument, the environment variable or the path.

How the cases were chosen: for every package (wave, gsemm, emt, rnn, tradeoff, gan, io, distributed, loop, tasks,
report, the CLI) the public entry points a new user calls first, and for each the argument classes that break code:
sizes of 0, negative or non-integer; NaN/inf where a finite number is needed (hyperparameters, weights, codes);
values outside their range (probabilities, thresholds, bits, indices past the end); unknown names (tasks, models,
losses, families, subcommands); arrays one axis off (batches, boundaries, kernels); wrong types (a non-callable,
a list for a record); missing files and folders; malformed environment variables. The reproductions of issue 14
items 2 (NaN weights), 5/6 (batches and swept hyperparameters of ``rnn.train``, ``Elman(hidden=0)``) and 10
(``unpad_leading``, ``sym_uniform``, ``WAVEJAX_NUM_PROCESSES``, ``traces:X``) are among them. Every case fails
before anything is compiled (``rnn.train`` checks one traced batch with ``jax.eval_shape``), so the battery runs in
seconds. Cases that failed when the battery was written (deep ZeroDivisionError/IndexError/AttributeError/MLIR
errors, silent garbage such as a clamped seed index, NaN confidence intervals, a report at scale "huge" or a
16 GiB rANS table) were fixed in the library, not left out. CLI cases run in process (``wavejax.cli.main``) from a
temporary working directory.
"""

import math
import re
from unittest import mock

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wavejax import distributed, emt, gan, gsemm, io, loop, tasks, tradeoff, wave
from wavejax.rnn import LSTM, Elman, TrainConfig, WaveRNN, sym_uniform
from wavejax.tradeoff import _rans

K = jax.random.key(0)
NOPE = "/nonexistent-wavejax-dir/x"


def _rnn_train(model=None, batch=None, sweep=None, loss_fn=None, n=1, cfg=None):
    from wavejax.rnn import Elman, TrainConfig, masked_mse, train

    model = model or Elman(hidden=4, d_out=2)

    def ok_batch(key, level):
        x = jnp.zeros((3, 5, 2), jnp.float32)
        return x, x, jnp.ones((5,), bool)

    cfg = cfg or TrainConfig(steps=10, chunk=10, log_every=10, ckpt_every=0, n_levels=1)
    return train(model, batch or ok_batch, cfg, key=K, n_members=n, sweep=sweep, loss_fn=loss_fn or masked_mse)


def _b(x=(3, 5, 2), y=(3, 5, 2), m=(5,)):
    def f(key, level):
        return jnp.zeros(x, jnp.float32), jnp.zeros(y, jnp.float32), jnp.ones(m, bool)

    return f


def _cases_rnn(add):
    """rnn cases."""
    add("rnn-train-mask-3d", lambda: _rnn_train(batch=_b(m=(3, 5, 2))), ValueError, r"mask.*\(3, 5, 2\)")
    add(
        "rnn-train-y-wide",
        lambda: _rnn_train(batch=_b(y=(3, 5, 3))),
        ValueError,
        r"y \(targets\).*\(3, 5, 2\).*\(3, 5, 3\)",
    )
    add("rnn-train-x-2d", lambda: _rnn_train(batch=_b(x=(3, 2))), ValueError, r"x \(inputs\).*\(3, 2\)")
    add(
        "rnn-train-sweep-lr-inf",
        lambda: _rnn_train(n=3, sweep={"lr": [1e-3, math.inf, 1e-3]}),
        ValueError,
        r"sweep\['lr'\]\[1\].*inf",
    )
    add(
        "rnn-train-sweep-lr-nan",
        lambda: _rnn_train(n=3, sweep={"lr": [math.nan, 1e-3, 1e-3]}),
        ValueError,
        r"sweep\['lr'\]\[0\].*NaN",
    )
    add(
        "rnn-train-sweep-lr-neg",
        lambda: _rnn_train(n=3, sweep={"lr": [1e-3, 1e-3, -1.0]}),
        ValueError,
        r"sweep\['lr'\]\[2\].*-1",
    )
    add(
        "rnn-train-sweep-threshold-2",
        lambda: _rnn_train(n=2, sweep={"threshold": [0.9, 2.0]}),
        ValueError,
        r"sweep\['threshold'\]\[1\].*2",
    )
    add("rnn-train-sweep-l2-neg", lambda: _rnn_train(n=2, sweep={"l2": [0.0, -0.1]}), ValueError, r"sweep\['l2'\]\[1\]")
    add("rnn-train-sweep-unknown", lambda: _rnn_train(n=2, sweep={"momentum": [0.0, 0.1]}), ValueError, r"momentum")
    add(
        "rnn-train-sweep-len",
        lambda: _rnn_train(n=2, sweep={"lr": [1e-3, 1e-3, 1e-3]}),
        ValueError,
        r"sweep\['lr'\].*\(2,\)",
    )
    add("rnn-train-n-members-0", lambda: _rnn_train(n=0), ValueError, r"n_members")
    add("rnn-train-batch-fn-not-callable", lambda: _rnn_train(batch=3), TypeError, r"batch_fn")
    add("rnn-train-loss-not-scalar", lambda: _rnn_train(loss_fn=lambda p, y, m: p), ValueError, r"loss_fn.*scalar")
    add(
        "rnn-train-batch-not-tuple",
        lambda: _rnn_train(batch=lambda k, l: jnp.zeros((3, 5, 2))),
        TypeError,
        r"batch_fn.*\(x, y, mask\)",
    )
    add("rnn-elman-hidden-0", lambda: Elman(hidden=0, d_out=2), ValueError, r"Elman\.hidden")
    add("rnn-elman-dout-0", lambda: Elman(hidden=4, d_out=0), ValueError, r"Elman\.d_out")
    add("rnn-lstm-hidden-neg", lambda: LSTM(hidden=-1, d_out=2), ValueError, r"LSTM\.hidden")
    add("rnn-wave-channels-0", lambda: WaveRNN(channels=0, units=3, d_out=2), ValueError, r"WaveRNN\.channels")
    add("rnn-hidden-float", lambda: Elman(hidden=2.5, d_out=2), TypeError, r"Elman\.hidden")
    add("rnn-sym-uniform-neg", lambda: sym_uniform(-1.0), ValueError, r"scale")
    add("rnn-trainconfig-lr", lambda: TrainConfig(lr=-1), ValueError, r"lr")
    add("rnn-trainconfig-threshold", lambda: TrainConfig(threshold=2.0), ValueError, r"threshold")
    add("rnn-trainconfig-log-every", lambda: TrainConfig(chunk=30, log_every=50), ValueError, r"log_every")
    add("rnn-trainconfig-curriculum", lambda: TrainConfig(curriculum="bogus"), ValueError, r"curriculum")
    add(
        "rnn-trainconfig-compile-sweep",
        lambda: _rnn_train(n=2, cfg=TrainConfig(steps=10, chunk=10, log_every=10, ckpt_every=0, curriculum="compile")),
        ValueError,
        r"n_members",
    )


def _cases_tradeoff(add):
    """tradeoff cases."""
    add(
        "tradeoff-compressed-bits-nan",
        lambda: tradeoff.compressed_bits({"w": np.array([1, np.nan], np.float32)}, 8),
        ValueError,
        r"params leaf \['w'\]",
    )
    add(
        "tradeoff-compressed-bits-inf-32",
        lambda: tradeoff.compressed_bits({"w": np.array([np.inf], np.float32)}, 32),
        ValueError,
        r"params leaf \['w'\]",
    )
    add("tradeoff-quantize-bits-17", lambda: tradeoff.quantize({"w": np.ones(3)}, 17), ValueError, r"bits")
    add("tradeoff-quantize-sparsity-1", lambda: tradeoff.quantize({"w": np.ones(3)}, 8, 1.0), ValueError, r"sparsity")
    add(
        "tradeoff-quantize-str-leaf",
        lambda: tradeoff.quantize({"w": np.array(["a"])}, 8),
        TypeError,
        r"params leaf \['w'\]",
    )
    add(
        "tradeoff-serialize-nan-codes",
        lambda: tradeoff.serialize({"w": np.array([np.nan])}, {"w": np.float32(1)}, 8),
        ValueError,
        r"codes leaf \['w'\]",
    )
    add(
        "tradeoff-serialize-codes-range",
        lambda: tradeoff.serialize({"w": np.array([300])}, {"w": np.float32(1)}, 8),
        ValueError,
        r"codes leaf \['w'\].*127",
    )
    add(
        "tradeoff-compress-sizes-nan",
        lambda: tradeoff._cost.compress_sizes({"w": np.array([np.nan])}, {"w": np.float32(1)}, 4),
        ValueError,
        r"codes leaf",
    )
    add("tradeoff-rans-nan", lambda: _rans.rans_bits(np.array([0.0, np.nan])), ValueError, r"q must be finite")
    add("tradeoff-rans-range", lambda: _rans.rans_bits(np.array([0, 2**40])), ValueError, r"q spans symbols")
    add(
        "tradeoff-entropy-nan",
        lambda: tradeoff.empirical_entropy_bits({"w": np.array([np.nan])}),
        ValueError,
        r"codes leaf",
    )
    add("tradeoff-nonzeros-nan", lambda: tradeoff.nonzeros({"w": np.array([np.nan])}), ValueError, r"params leaf")
    add(
        "tradeoff-dequantize-nan-scale",
        lambda: tradeoff.dequantize({"w": np.array([1])}, {"w": np.float32(np.nan)}),
        ValueError,
        r"scales leaf",
    )
    add("tradeoff-sweepconfig-task", lambda: tradeoff.SweepConfig(task="bogus"), ValueError, r"task='bogus'")
    add(
        "tradeoff-sweepconfig-traces-missing",
        lambda: tradeoff.SweepConfig(task="traces:" + NOPE),
        ValueError,
        r"trace folder",
    )
    add("tradeoff-sweepconfig-lr-nan", lambda: tradeoff.SweepConfig(lr=math.nan), ValueError, r"lr")
    add("tradeoff-sweepconfig-burn", lambda: tradeoff.SweepConfig(burn=64, window=64), ValueError, r"burn")
    add("tradeoff-sweepconfig-family", lambda: tradeoff.SweepConfig(families=("gru",)), ValueError, r"families")
    add("tradeoff-make-task-name", lambda: tradeoff.make_task("bogus", key=K), ValueError, r"name='bogus'")
    add("tradeoff-load-traces-missing", lambda: tradeoff._tasks.load_traces(NOPE), ValueError, r"folder")
    add("tradeoff-make-model-family", lambda: tradeoff.make_model("gru", 4, 2), ValueError, r"family")
    add("tradeoff-make-model-width", lambda: tradeoff.make_model("elman", 0, 2), ValueError, r"width")
    add("tradeoff-lattice-width", lambda: tradeoff._models.LatticeLinear(width=0, d_out=2), ValueError,
        r"LatticeLinear\.width")
    add("tradeoff-pareto-nan", lambda: tradeoff.pareto_front([1, np.nan], [1.0, 2.0]), ValueError, r"costs")
    add("tradeoff-pareto-len", lambda: tradeoff.pareto_front([1, 2], [1.0]), ValueError, r"losses|costs")
    add("tradeoff-cacheconfig", lambda: tradeoff.CacheConfig(n_sets=0), ValueError, r"n_sets")
    add("tradeoff-kernel-name", lambda: tradeoff._cache.kernel_addresses("bogus", 10), ValueError, r"bogus")
    add("tradeoff-windows-w", lambda: tradeoff._tasks.windows(np.arange(10.0), 0), ValueError, r"\bw\b")
    add("tradeoff-hmm-n-states", lambda: tradeoff.unifilar_hmm(K, n_states=0), ValueError, r"n_states")
    add(
        "tradeoff-fit-phases-nan",
        lambda: tradeoff.fit_phases([1.0, 2.0, np.nan, 4.0], [1.0, 2.0, 3.0, 4.0]),
        ValueError,
        r"log_cost",
    )
    add("tradeoff-mdl-n", lambda: tradeoff._frontier.mdl_lengths([1.0], [1.0], 0), ValueError, r"\bn\b")
    add("tradeoff-bootstrap-level", lambda: tradeoff._fits.bootstrap_ci(np.mean, 10, key=K, level=1.5), ValueError,
        r"level")
    add(
        "tradeoff-unpad-params-to",
        lambda: tradeoff._pack.pad_params("elman", {"W_hh": jnp.zeros((2, 2))}, 4, 2),
        ValueError,
        r"to=2",
    )
    add(
        "tradeoff-integer-table-bits-nan",
        lambda: tradeoff._predictors.integer_table_bits(np.array([1.0, np.nan])),
        ValueError,
        r"table must hold non-negative int32",
    )
    add("tradeoff-raw-bits-neg", lambda: tradeoff.raw_bits({"w": np.ones(3)}, bits=-1), ValueError, r"bits=-1")
    add(
        "tradeoff-ngram-real-nan-data",
        lambda: tradeoff._predictors.ngram_real([np.array([1.0, np.nan])], [np.array([1.0, 2.0])]),
        ValueError,
        r"train\[0\] must be finite",
    )
    add(
        "tradeoff-ngram-symbols-range",
        lambda: tradeoff._predictors.ngram_symbols([np.array([0, 5])], [np.array([0, 1])], 3),
        ValueError,
        r"train\[0\] must hold integer symbols in \[0, 3\)",
    )
    add("tradeoff-load-traces-nan", lambda: _nan_trace(), ValueError, r"trace .*bad\.npy must hold finite")


def _cases_distributed(add):
    """distributed cases."""
    add("distributed-unpad-neg", lambda: distributed.unpad_leading({"a": np.zeros(4)}, -1), ValueError, r"\bn\b.*-1")
    add("distributed-unpad-too-long", lambda: distributed.unpad_leading({"a": np.zeros(4)}, 5), ValueError, r"n=5")
    add("distributed-unpad-float", lambda: distributed.unpad_leading({"a": np.zeros(4)}, 2.0), TypeError, r"\bn\b")
    add("distributed-pad-multiple", lambda: distributed.pad_leading({"a": np.zeros(4)}, 0), ValueError, r"multiple")
    add(
        "distributed-pad-ragged",
        lambda: distributed.pad_leading({"a": np.zeros(4), "b": np.zeros(3)}, 2),
        ValueError,
        r"leading",
    )
    add(
        "distributed-env-num-processes",
        lambda: _env_init({"WAVEJAX_COORDINATOR": "localhost:1", "WAVEJAX_NUM_PROCESSES": "abc"}),
        ValueError,
        r"WAVEJAX_NUM_PROCESSES='abc'",
    )
    add(
        "distributed-env-process-id",
        lambda: _env_init(
            {"WAVEJAX_COORDINATOR": "localhost:1", "WAVEJAX_NUM_PROCESSES": "2", "WAVEJAX_PROCESS_ID": "x"}
        ),
        ValueError,
        r"WAVEJAX_PROCESS_ID",
    )
    add(
        "distributed-env-heartbeat",
        lambda: _env_init({"WAVEJAX_COORDINATOR": "localhost:1", "WAVEJAX_HEARTBEAT_S": "soon"}),
        ValueError,
        r"WAVEJAX_HEARTBEAT_S",
    )
    add(
        "distributed-env-slurm",
        lambda: _env_init({"SLURM_JOB_ID": "1", "SLURM_NTASKS": "many"}),
        ValueError,
        r"SLURM_NTASKS",
    )
    add(
        "distributed-num-processes-0", lambda: distributed.initialize("localhost:1", 0, 0), ValueError, r"num_processes"
    )
    add("distributed-process-id-range", lambda: distributed.initialize("localhost:1", 2, 5), ValueError, r"process_id")


def _cases_io(add):
    """io cases."""
    add("io-read-json-missing", lambda: io.read_json(NOPE + ".json"), FileNotFoundError, r"nonexistent-wavejax-dir")
    add("io-append-jsonl-record", lambda: io.append_jsonl("x.jsonl", [1, 2]), TypeError, r"record")
    add("io-save-checkpoint-step", lambda: io.save_checkpoint("ck", -1, {"a": np.zeros(1)}), ValueError, r"step")


def _cases_loop(add):
    """loop cases."""
    add(
        "loop-total-0",
        lambda: loop.run_chunks(lambda *a: None, {"a": jnp.zeros(1)}, loop.Schedule(total=0, log_every=1)),
        ValueError,
        r"total",
    )
    add(
        "loop-log-every-0",
        lambda: loop.run_chunks(lambda *a: None, {"a": jnp.zeros(1)}, loop.Schedule(total=10, log_every=0)),
        ValueError,
        r"log_every",
    )
    add(
        "loop-step-not-callable",
        lambda: loop.run_chunks(3, {"a": jnp.zeros(1)}, loop.Schedule(total=10, log_every=10)),
        TypeError,
        r"step_chunk",
    )


def _cases_tasks(add):
    """tasks cases."""
    add("tasks-parse-bogus", lambda: tasks.parse_task_id("bogus"), ValueError, r"bogus")
    add("tasks-parse-s0", lambda: tasks.decode_task("repeat_copy", s=0), ValueError, r"\bs\b")
    add("tasks-lag-matrices-shape", lambda: tasks.lag_matrices(np.zeros((3, 4))), ValueError, r"\bF\b")
    add(
        "tasks-task-batch-horizon",
        lambda: tasks.task_batch(K, tasks.lag_matrices(tasks.decode_task("repeat_copy")), horizon=0, batch=2),
        ValueError,
        r"horizon",
    )
    add(
        "tasks-task-batch-batch",
        lambda: tasks.task_batch(K, tasks.lag_matrices(tasks.decode_task("repeat_copy")), horizon=4, batch=0),
        ValueError,
        r"batch",
    )


def _cases_wave(add):
    """wave cases."""
    add("wave-shift-matrix-s0", lambda: wave.shift_matrix(0, 2), ValueError, r"\bs\b")
    add("wave-linear-boundary-shape", lambda: wave.linear_boundary(np.zeros((2, 3))), ValueError, r"phi")
    add(
        "wave-rollout-input-mode",
        lambda: wave.rollout(
            wave.linear_boundary(np.zeros((2, 3, 3))), np.zeros((2, 3)), np.zeros((4, 3)), input_mode="bogus"
        ),
        ValueError,
        r"input_mode",
    )
    add(
        "wave-rollout-H0-shape",
        lambda: wave.rollout(wave.linear_boundary(np.zeros((2, 3, 3))), np.zeros((5, 3)), np.zeros((4, 3))),
        ValueError,
        r"H0",
    )
    add(
        "wave-rollout-xs-shape",
        lambda: wave.rollout(wave.linear_boundary(np.zeros((2, 3, 3))), np.zeros((2, 3)), np.zeros((4, 4))),
        ValueError,
        r"xs",
    )
    add("wave-random-basis-n", lambda: wave.random_basis(K, 4, 8), ValueError, r"\bn\b|\bN\b")
    add("wave-probe-d0", lambda: wave.probe_315(0), ValueError, r"\bd\b")
    add("wave-varma-steps", lambda: wave.varma(np.zeros((2, 3, 3)), np.zeros((2, 3)), 0), ValueError, r"steps")
    add("wave-fibonacci-steps", lambda: wave.fibonacci(jnp.zeros((2, 1)), -1), ValueError, r"steps")
    add("wave-spectrum-nonsquare", lambda: wave.spectrum(np.zeros((2, 3))), ValueError, r"\bW\b")
    add("wave-random-rnn-gain", lambda: wave.random_rnn(K, 4, 2, gain=math.nan), ValueError, r"gain")
    add(
        "wave-attention-scale",
        lambda: wave.attention_boundary(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((3, 3)), scale="bogus"),
        ValueError,
        r"scale",
    )


def _cases_gsemm(add):
    """gsemm cases."""
    add(
        "gsemm-energy-model",
        lambda: gsemm.energy("bogus", np.ones((2, 4)), np.eye(2), np.zeros(4), np.zeros(4), alpha_s=1.0, alpha_c=0.0),
        ValueError,
        r"model",
    )
    add("gsemm-learn-rule", lambda: gsemm.learn("bogus", K, np.ones((2, 4)), cfg=None), ValueError, r"rule")
    add("gsemm-capacity-features", lambda: gsemm.capacity_search("lisem", K, 0), ValueError, r"n_features")
    add("gsemm-cycle-trial-memories", lambda: gsemm._capacity.cycle_trial("lisem", K, 4, 0), ValueError, r"n_memories")
    add("gsemm-solverconfig", lambda: gsemm.SolverConfig(solver="bogus"), ValueError, r"solver")


def _cases_emt(add):
    """emt cases."""
    add("emt-config-hidden", lambda: _emt_cfg(hidden=0), ValueError, r"hidden")
    add("emt-config-task", lambda: _emt_cfg(task="bogus"), ValueError, r"task")
    add("emt-probe-inputs-s", lambda: emt.probe_inputs(s=3), ValueError, r"\bs >= 7|s=3")
    add(
        "emt-circuit-rollout-nonlin",
        lambda: emt.circuit_rollout(
            {"W_hh": np.eye(2), "W_uh": np.eye(2), "W_hy": np.eye(2)}, np.zeros((1, 3, 2)), nonlinearity="relu"
        ),
        ValueError,
        r"nonlinearity",
    )
    add("emt-predicted-block-s", lambda: emt.predicted_block(0, 0, 0), ValueError, r"\bs\b")
    add("emt-load-run-missing", lambda: _emt_load(NOPE), FileNotFoundError, r"nonexistent-wavejax-dir")
    add(
        "emt-analyze-task",
        lambda: emt.analyze_rnn(
            {"W_uh": np.zeros((64, 8)), "W_hh": np.zeros((64, 64)), "W_hy": np.zeros((8, 64))}, "bogus"
        ),
        ValueError,
        r"bogus",
    )


def _cases_gan(add):
    """gan cases."""
    add("gan-init-params-hidden", lambda: gan.init_params(K, hidden=6), ValueError, r"hidden")
    add("gan-generator-hidden", lambda: gan.Generator(hidden=0), ValueError, r"Generator\.hidden")
    add(
        "gan-critic-loss-name",
        lambda: gan.critic_loss("bogus", jnp.zeros((2, 1)), jnp.zeros((2, 1))),
        ValueError,
        r"loss",
    )
    add("gan-config-loss", lambda: gan.GANConfig(loss="bogus"), ValueError, r"loss")
    add("gan-config-lr", lambda: gan.GANConfig(lr=-1.0), ValueError, r"lr")
    add("gan-config-n-critic", lambda: gan.GANConfig(n_critic=0), ValueError, r"n_critic")
    add("gan-read-idx-missing", lambda: gan.read_idx(NOPE + ".idx"), FileNotFoundError, r"nonexistent-wavejax-dir")
    add(
        "gan-read-csv-missing", lambda: gan._data.read_mnist_csv(NOPE + ".csv"), FileNotFoundError,
        r"nonexistent-wavejax-dir"
    )
    add("gan-load-mnist-missing", lambda: gan._data.load_mnist(NOPE), FileNotFoundError, r"nonexistent-wavejax-dir")
    add(
        "gan-split-fraction",
        lambda: gan._data.split_train_test(np.zeros((10, 2)), np.zeros(10), test_fraction=1.5),
        ValueError,
        r"test_fraction",
    )
    add("gan-split-len", lambda: gan._data.split_train_test(np.zeros((10, 2)), np.zeros(9)), ValueError, r"\by\b|\bx\b")
    add(
        "gan-aligned-shape",
        lambda: gan.aligned_cosine(np.zeros((5, 5, 2, 3)), np.zeros((5, 5, 2, 4))),
        ValueError,
        r"\bb\b",
    )
    add("gan-random-shift-neg", lambda: gan._evaluate.random_shift(K, jnp.zeros((1, 4, 4, 1)), -1), ValueError,
        r"shift")
    add("gan-mean-ci-empty", lambda: gan._evaluate.mean_ci(np.zeros(0)), ValueError, r"\bx\b")
    add("gan-clip-params-c", lambda: gan.clip_params({"w": jnp.ones(2)}, -1.0), ValueError, r"\bc\b")
    add("gan-seed-slice-m", lambda: gan._run.seed_slice({"w": jnp.ones((2, 3))}, 5), ValueError, r"\bm\b")
    add("gan-load-digits-size", lambda: gan._data.load_digits(image_size=0), ValueError, r"image_size")
    add("gan-feature-fid-shape", lambda: gan.feature_fid(np.zeros((4, 3)), np.zeros((4, 2))), ValueError, r"feats")


def _cases_report(add):
    """report cases."""
    add("report-row-holds", lambda: _report_row(), TypeError, r"holds")
    add("report-reproduce-scale", lambda: _reproduce(scale="huge"), ValueError, r"scale")
    add("report-reproduce-only", lambda: _reproduce(only=("bogus.exp",)), ValueError, r"bogus")


def _cases_cli(add):
    """CLI parse (in process) cases."""
    for argv, pat in [
        (["bogus-model"], r"bogus-model|invalid choice|unrecognized"),
        (["emt", "train", "--hidden", "0"], r"hidden"),
        (["emt", "train", "--train.lr", "-1"], r"lr"),
        (["emt", "train", "--task", "bogus"], r"task"),
        (["emt", "train", "--preset", "huge"], r"--preset"),
        (["tradeoff", "sweep", "--task", "traces:" + NOPE], r"trace folder"),
        (["tradeoff", "sweep", "--lr", "nan"], r"lr"),
        (["tradeoff", "sweep", "--bits", "17"], r"bits"),
        (["gan", "train", "--loss", "bogus"], r"loss|bogus"),
        (["gan", "train", "--hidden", "6"], r"hidden"),
        (["gsemm", "bogus-command"], r"bogus-command|invalid choice"),
        (["wave", "bogus-command"], r"bogus-command|invalid choice"),
        (["reproduce", "--scale", "huge"], r"scale|huge"),
    ]:
        add(
            "cli-" + "-".join(a.strip("-").replace("/", "").replace(".", "_") for a in argv[:3])[:50],
            (lambda a=argv: _cli(a)),
            SystemExit,
            pat,
        )
    # a CLI run whose input path is missing: the library's own error naming the path, as one line (issue 22 §5)
    add(
        "cli-emt-analyze-missing-run",
        lambda: _cli(["emt", "analyze", "--run", NOPE, "--out", "an"]),
        SystemExit,
        r"nonexistent-wavejax-dir/x/run\.npz not found",
    )
    add(
        "cli-tradeoff-frontier-missing-sweep",
        lambda: _cli(["tradeoff", "frontier", "--sweep", NOPE, "--out", "fr"]),
        SystemExit,
        r"sweep='/nonexistent-wavejax-dir/x' holds no points",
    )


def _cases():
    C = []

    def add(i, f, e, p):
        C.append((i, f, e, p))

    _cases_rnn(add)
    _cases_tradeoff(add)
    _cases_distributed(add)
    _cases_io(add)
    _cases_loop(add)
    _cases_tasks(add)
    _cases_wave(add)
    _cases_gsemm(add)
    _cases_emt(add)
    _cases_gan(add)
    _cases_report(add)
    _cases_cli(add)
    return C


def _env_init(env):
    from wavejax import distributed

    with mock.patch.dict("os.environ", env, clear=False):
        return distributed.initialize_from_env() if "SLURM_JOB_ID" not in env else distributed.wanted()


def _nan_trace():
    import pathlib

    pathlib.Path("tr").mkdir()
    np.save("tr/bad.npy", np.array([1.0, np.nan]))
    return tradeoff._tasks.load_traces("tr")


def _emt_cfg(**kw):
    from wavejax.emt import EMTConfig

    return EMTConfig(**kw)


def _emt_load(p):
    from wavejax.emt._training import load_run

    return load_run(p)


def _report_row():
    from wavejax.report import row

    return row("q", "p", 1.0, holds="yes")


def _reproduce(**kw):
    from wavejax.report import reproduce

    return reproduce("repro-out", **kw)


def _cli(argv):
    from wavejax.cli import main

    return main(argv)


CASES = _cases()
API = [pytest.param(f, e, p, id=i) for i, f, e, p in CASES if e is not SystemExit]
CLI = [pytest.param(f, p, id=i) for i, f, e, p in CASES if e is SystemExit]


def test_battery_size_and_coverage():
    """At least 60 cases, every package represented, unique ids."""
    ids = [c[0] for c in CASES]
    assert len(ids) >= 60 and len(set(ids)) == len(ids)
    for pkg in (
        "wave",
        "gsemm",
        "emt",
        "rnn",
        "tradeoff",
        "gan",
        "io",
        "distributed",
        "loop",
        "tasks",
        "report",
        "cli",
    ):
        assert sum(i.startswith(pkg + "-") for i in ids) >= 2, pkg


@pytest.mark.parametrize("call,exc,pattern", API)
def test_bad_api_call(call, exc, pattern, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # cases that would write (a report folder, a checkpoint) write here
    with pytest.raises(exc, match=pattern):
        call()


@pytest.mark.parametrize("call,pattern", CLI)
def test_bad_cli_call(call, pattern, tmp_path, monkeypatch, capsys):
    """The CLI exits non-zero with a message naming the flag or value (tyro's usage error or a config's check)."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        call()
    assert info.value.code not in (0, None)
    out = capsys.readouterr()
    text = f"{info.value.code}\n{out.out}\n{out.err}"
    assert re.search(pattern, text), text[-2000:]
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("results.json"))
