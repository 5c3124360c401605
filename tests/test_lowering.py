"""Every hot path lowers for ``cuda`` and ``tpu`` at the papers' scale, from this CPU-only machine (issue 19).

``jax.export.export(jax.jit(f), platforms=("cuda", "tpu"))`` with ``ShapeDtypeStruct`` arguments, through the
public entry points: lowering only (nothing is compiled or run), so it checks JAX's platform lowering rules, not
XLA:GPU / XLA:TPU. Every module must be free of host callbacks (what blocked GSEMM's default Diffrax path).

Scales: the wave rollout at the benchmark's largest batch (B=1024, T=1000); the engine chunk of the EMT recipe
(H=128, B=64, 100 steps) and of a Table-1 member block (4 tasks x 3 L2 x 2 thresholds x 20 seeds = 480
members), the latter also under ``shard_map`` over 4 forced host devices (16 members there: the program per device
is the same, only its member count differs); the tradeoff width pack LSTM 64/128/256 x 3 seeds; GSEMM DSEM N=100
K=10 t1=1000 (default Tsit5, the scan solvers), a 64-cue batch, a capacity batch (16 sets, N=32, K=156, t1=3950);
the GAN outer step of the paper configuration (h=64, B=64, 28x28, 70,000 images, 3 seeds).

The engine chunk is built from the public pieces exactly as :func:`wavejax.rnn.train` builds it:
``jit(sweep_vmap(scan(train_step)))`` (``wavejax.rnn.step``).
"""

import functools
import os
import re
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

PLATFORMS = ("cuda", "tpu")


def export(fn, *args, platforms=PLATFORMS):
    """The exported module's StableHLO text (raises when ``fn`` does not lower for ``platforms``)."""
    jf = fn if hasattr(fn, "lower") else jax.jit(fn)
    return jax.export.export(jf, platforms=platforms)(*args).mlir_module()


def assert_no_callback(text: str) -> None:
    targets = set(re.findall(r'custom_call @([\w.$-]+)', text)) | set(re.findall(r'call_target_name = "([^"]+)"',
                                                                                   text))
    assert not [t for t in targets if "callback" in t.lower()], targets
    assert "callback" not in text


def sds(tree):
    return jax.tree.map(lambda a: jax.ShapeDtypeStruct(np.shape(a), a.dtype), tree)


# --- the engine chunk, composed from the public pieces ---------------------------------------------------------

def engine_chunk(model, batch_fn, loss_fn, cfg, mesh=None):
    """``jit(sweep_vmap(scan of cfg.chunk train_steps))``: the program :func:`wavejax.rnn.train` compiles."""
    from wavejax.distributed import sweep_vmap
    from wavejax.rnn import train_step

    def run_one(state, hp, data):
        def body(st, _):
            return train_step(st, hp, data, model=model, batch_fn=batch_fn, loss_fn=loss_fn, cfg=cfg)

        return jax.lax.scan(body, state, None, length=cfg.chunk)

    return jax.jit(sweep_vmap(run_one, mesh, block=cfg.member_block), donate_argnums=0)


def engine_args(model, batch_fn, cfg, n, data=None, grad_mask=False):
    """Abstract (state, hp, data) of ``n`` members."""
    from wavejax.rnn import init_state

    keys = jax.random.split(jax.random.key(0), n)
    x0 = jax.eval_shape(lambda k: batch_fn(k, 0) if data is None else batch_fn(k, 0, data[0]), keys[0])[0]
    state = jax.eval_shape(jax.vmap(lambda k: init_state(model, k, jnp.zeros(x0.shape, x0.dtype), cfg=cfg)), keys)
    hp = {k: jax.ShapeDtypeStruct((n,), jnp.float32) for k in ("lr", "l2", "threshold")}
    if grad_mask:
        hp["grad_mask"] = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, jnp.float32), state.params)
    return state, hp, None if data is None else sds(data)


def emt_recipe():
    from wavejax.emt import EMTConfig, curriculum_batch_fn
    from wavejax.rnn import Elman, masked_mse
    from wavejax.tasks import binary_vb_task, parse_task_id

    cfg = EMTConfig.full()
    batch_fn = curriculum_batch_fn(binary_vb_task(parse_task_id(cfg.task)), batch=cfg.batch,
                                   horizons=cfg.curriculum)
    model = Elman(hidden=cfg.hidden, d_out=8)
    return model, batch_fn, masked_mse, cfg.engine()


def emt_table_block(n_members: int):
    """The Table-1 sweep's engine program: tasks as per-member data (``phi`` (n, s, d, d))."""
    from wavejax.emt import TableConfig, curriculum_batch_fn
    from wavejax.rnn import Elman, masked_mse
    from wavejax.tasks import binary_vb_task, parse_task_id

    tc = TableConfig.full()
    cfg = tc.emt(128)
    phis = np.stack([binary_vb_task(parse_task_id(t) if isinstance(t, str) else t) for t in tc.tasks])
    phis = np.asarray(phis[np.arange(n_members) % len(phis)], np.float32)
    batch_fn = curriculum_batch_fn(None, batch=cfg.batch, horizons=cfg.curriculum)
    return Elman(hidden=cfg.hidden, d_out=8), batch_fn, masked_mse, cfg.engine(), phis, tc


@pytest.fixture(scope="module")
def emt_chunk_text():
    model, batch_fn, loss_fn, cfg = emt_recipe()
    return export(engine_chunk(model, batch_fn, loss_fn, cfg), *engine_args(model, batch_fn, cfg, 1))


# --- wave ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("impl,save", [("chunked", "newest"), ("shift", "lattice"), ("ring", "newest")])
def test_wave_rollout_lowers(impl, save):
    from wavejax.tasks import binary_vb_task
    from wavejax.wave import linear_boundary, rollout

    f = linear_boundary(jnp.asarray(binary_vb_task((255, 0, 0)), jnp.float32))
    B, T, s, d = 1024, 1000, 8, 8
    mask = jnp.arange(T) < 8

    def fn(x):
        return jax.vmap(lambda xi: rollout(f, jnp.zeros((s, d), jnp.float32), xi, mask=mask, impl=impl,
                                           save=save))(x)

    text = export(fn, jax.ShapeDtypeStruct((B, T, d), jnp.float32))
    assert_no_callback(text)
    assert "f64" not in text


# --- engine ----------------------------------------------------------------------------------------------------

def test_engine_chunk_emt_recipe_lowers(emt_chunk_text):
    assert_no_callback(emt_chunk_text)
    assert "stablehlo.while" in emt_chunk_text  # the 100-step scan stays a loop


def test_engine_chunk_table1_block_lowers():
    model, batch_fn, loss_fn, cfg, phis, tc = emt_table_block(480)
    assert len(tc.tasks) * len(tc.l2s) * len(tc.thresholds) * tc.seeds == 480
    text = export(engine_chunk(model, batch_fn, loss_fn, cfg), *engine_args(model, batch_fn, cfg, 480, phis))
    assert_no_callback(text)
    assert "tensor<480x128x128xf32>" in text  # the member axis is in the one program


def _sharded_main() -> None:  # run in a subprocess with 4 forced host devices
    from wavejax.distributed import sweep_mesh

    assert jax.device_count() == 4, jax.devices()
    model, batch_fn, loss_fn, cfg, phis, _ = emt_table_block(16)
    mesh = sweep_mesh()
    exp = jax.export.export(engine_chunk(model, batch_fn, loss_fn, cfg, mesh), platforms=PLATFORMS)(
        *engine_args(model, batch_fn, cfg, 16, phis))
    text = exp.mlir_module()
    assert_no_callback(text)
    print("SHARDED_OK", exp.nr_devices, "shard_map" in text or "sdy.manual_computation" in text)


@pytest.mark.multidevice
def test_engine_chunk_sharded_over_4_devices_lowers():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
    here = os.path.dirname(__file__)
    code = f"import sys; sys.path.insert(0, {here!r}); import test_lowering as t; t._sharded_main()"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "SHARDED_OK 4 True" in out.stdout, out.stdout


def test_tradeoff_packed_chunk_lowers():
    from wavejax.tradeoff import SweepConfig, make_model, make_task
    from wavejax.tradeoff._data import make_batch_fn, make_loss_fn

    sc = SweepConfig.full("ar")
    task = make_task("ar", key=jax.random.key(0), length=sc.length, n_programs=sc.n_programs)
    batch_fn = make_batch_fn(task, batch=sc.batch, window=sc.window, burn=sc.burn)
    tcfg = sc.train_config()
    model = make_model("lstm", 256, task.d_in, slots=8)  # the pack LSTM 64/128/256, padded to W = 256
    args = engine_args(model, batch_fn, tcfg, 9, grad_mask=True)
    text = export(engine_chunk(model, batch_fn, make_loss_fn(task), tcfg), *args)
    assert_no_callback(text)


# --- GSEMM -----------------------------------------------------------------------------------------------------

GS_KW = dict(t1=1000.0, save_every=0.5, alpha_s=1.0, alpha_c=2.0, beta_d=1.0, t_f=1.0, t_d=20.0, gamma=1.0)


@functools.lru_cache(maxsize=2)
def _memories(dtype):
    from wavejax.gsemm import cycle_memories

    xi, phi = cycle_memories(jax.random.key(1), 100, 10)
    return np.asarray(xi, dtype), np.asarray(phi, dtype)


@pytest.mark.parametrize("solver,dtype", [("tsit5", "float64"), ("tsit5", "float32"), ("rk4_scan", "float64"),
                                          ("euler_scan", "float32")])
def test_gsemm_simulate_lowers(solver, dtype):
    from wavejax.gsemm import SolverConfig, simulate

    xi, phi = _memories(dtype)
    kw = dict(GS_KW, solver_config=SolverConfig(solver=solver, dt=0.1 if solver.endswith("_scan") else 0.01))
    text = export(lambda v0: simulate("dsem", xi, phi, v0, dtype=dtype, **kw),
                  jax.ShapeDtypeStruct((100,), np.dtype(dtype)))
    assert_no_callback(text)
    if dtype == "float32":  # traced with 64-bit mode off: nothing in float64 (what XLA:TPU needs)
        assert "f64" not in text


@pytest.mark.parametrize("strategy", ["stacked", "projected"])
def test_gsemm_simulate_batch_lowers(strategy):
    from wavejax.gsemm import SolverConfig, simulate_batch

    xi, phi = _memories("float64")
    kw = dict(GS_KW, strategy=strategy, method="rk4", solver_config=SolverConfig(dt=0.1))
    text = export(lambda v0s: simulate_batch("dsem", xi, phi, v0s, **kw).m,
                  jax.ShapeDtypeStruct((64, 100), jnp.float64))
    assert_no_callback(text)


def test_gsemm_capacity_batch_lowers():
    """The capacity batch (``cycle_trial``'s program): 16 random 156-cycles of N=32 features, Euler dt=0.05."""
    from wavejax.gsemm import SolverConfig, simulate
    from wavejax.gsemm._capacity import CAPACITY_NETWORKS

    S, N, K = 16, 32, 156
    net = CAPACITY_NETWORKS["dsem"]
    scal = net.scalars(N)
    phi = np.roll(np.eye(K), 1, axis=1)
    t1 = (K + 2) * net.dwell

    def one(xi):
        return simulate("dsem", xi, phi, jnp.sqrt(scal["alpha_s"]) * xi[:, 0], t1=t1, save_every=0.5,
                        solver_config=SolverConfig(solver="euler_scan", dt=0.05), save="overlaps", **scal).m

    text = export(jax.vmap(one), jax.ShapeDtypeStruct((S, N, K), jnp.float64))
    assert_no_callback(text)
    assert f"tensor<{S}x{int(t1 / 0.5) + 1}x{K}xf64>" in text


# --- GAN -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("loss", ["original", "wgan_gp"])
def test_gan_outer_step_lowers(loss):
    from wavejax.gan import GANConfig, create_states, outer_step

    cfg = GANConfig.full(data="mnist5k", mnist_dir=None, seeds=3, sharing="conv2", loss=loss,
                         clip=0.01 if loss == "original" else 0.0)
    keys = jax.random.split(jax.random.key(0), cfg.seeds)
    sg, sd = jax.eval_shape(jax.vmap(lambda k: create_states(k, cfg)), keys)
    step = jax.vmap(lambda g, d, k, x: outer_step(g, d, k, x, cfg=cfg), in_axes=(0, 0, 0, None))
    with jax.enable_x64(False):  # as `wavejax gan` runs (this suite turns 64-bit mode on)
        text = export(step, sg, sd, sds(keys), jax.ShapeDtypeStruct((70_000, 28, 28, 1), jnp.float32))
    assert_no_callback(text)
    assert "f64" not in text
    convs = _dots(text)  # GANConfig.matmul_precision = "highest": convolutions and dense layers alike
    # dot_general: precision = [HIGHEST, HIGHEST]; convolution: precision_config = [#stablehlo<precision HIGHEST>, ..]
    assert convs and all(c.count("HIGHEST") >= 2 for c in convs), [c for c in convs if c.count("HIGHEST") < 2][:2]
    assert any("stablehlo.convolution" in c for c in convs)


# --- the precision policy (wavejax._matmul.POLICY) ---------------------------------------------------------------

def _dots(text: str) -> list[str]:
    return [line for line in text.splitlines() if "stablehlo.dot_general" in line or "stablehlo.convolution" in line]


def test_emt_step_tpu_module_carries_highest_precision(emt_chunk_text):
    """Every matmul of the EMT engine step is HIGHEST in the exported module (true float32 on TPU, no TF32)."""
    dots = _dots(emt_chunk_text)
    assert len(dots) >= 4, len(dots)  # forward, recurrence and their gradients
    assert all("precision = [HIGHEST, HIGHEST]" in d for d in dots), [d for d in dots if "HIGHEST" not in d][:2]


def test_emt_step_default_precision_is_the_platform_default():
    """``matmul_precision="default"`` leaves the precision to the platform (so the test above can fail)."""
    import dataclasses

    model, batch_fn, loss_fn, cfg = emt_recipe()
    cfg = dataclasses.replace(cfg, matmul_precision="default", chunk=1, log_every=1, ckpt_every=0)
    text = export(engine_chunk(model, batch_fn, loss_fn, cfg), *engine_args(model, batch_fn, cfg, 1),
                  platforms=("tpu",))
    dots = _dots(text)
    assert dots and not any("HIGHEST" in d for d in dots)


def test_matmul_precision_is_validated():
    from wavejax.gan import GANConfig
    from wavejax.rnn import TrainConfig

    with pytest.raises(ValueError, match="matmul_precision"):
        TrainConfig(matmul_precision="bf16")
    with pytest.raises(ValueError, match="matmul_precision"):
        GANConfig(matmul_precision="fast")


def test_wave_and_gsemm_use_highest():
    from wavejax.gsemm import SolverConfig, simulate
    from wavejax.tasks import binary_vb_task
    from wavejax.wave import linear_boundary, rollout

    f = linear_boundary(jnp.asarray(binary_vb_task((255, 0, 0)), jnp.float32))
    text = export(lambda h: rollout(f, h, jnp.zeros((64, 8), jnp.float32), mask=jnp.zeros((64,), bool)),
                  jax.ShapeDtypeStruct((8, 8), jnp.float32), platforms=("tpu",))
    xi, phi = _memories("float32")
    text2 = export(lambda v0: simulate("dsem", xi, phi, v0, dtype="float32",
                                       solver_config=SolverConfig(solver="euler_scan", dt=0.1),
                                       **dict(GS_KW, t1=10.0)), jax.ShapeDtypeStruct((100,), jnp.float32),
                   platforms=("tpu",))
    for t in (text, text2):
        dots = _dots(t)
        assert dots and all("precision = [HIGHEST, HIGHEST]" in d for d in dots)
