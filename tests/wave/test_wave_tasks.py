"""Task decoding (the shared wavejax.tasks module), HDS reproduction (Theorem 3.1) and LBC matrices."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import F64_ATOL

from wavejax import emt, tasks, wave

# (dim j) <- (sign, lag, source dim), copied from wave.md §3.1 / emt.md §3: the ONE independent test copy of the
# spec's decoding tables (the library keeps its own, wavejax.tasks.SPEC_TABLES, checked against this one below)
DECODED = {
    (255, 0, 0): [(j, 1, 8, j) for j in range(8)],
    (9241421688590303745, 0, 0): [(j, 1, 8 - j, j) for j in range(8)],
    (9241421688590303745, 262676, 189): [(0, -1, 4, 4), (1, 1, 5, 3), (2, -1, 6, 2), (3, -1, 8, 0), (4, -1, 7, 1),
                                         (5, -1, 3, 5), (6, 1, 1, 7), (7, -1, 2, 6)],
    (9241421688590303745, 38637, 145): [(0, -1, 3, 5), (1, 1, 2, 6), (2, 1, 8, 0), (3, 1, 7, 1), (4, -1, 6, 2),
                                        (5, 1, 5, 3), (6, 1, 4, 4), (7, -1, 1, 7)],
}


@pytest.mark.parametrize("task_id", list(DECODED))
def test_decoding_matches_spec_tables(task_id):
    phi = tasks.binary_vb_task(task_id)
    assert phi.shape == (8, 8, 8)
    expected = np.zeros((8, 8, 8))
    for j, sign, lag, src in DECODED[task_id]:
        expected[lag - 1, j, src] = sign
    np.testing.assert_array_equal(phi, expected)
    F = tasks.decode_task(task_id)
    assert ((F != 0).sum(axis=0) == 1).all() and set(np.unique(F)) <= {-1.0, 0.0, 1.0}
    np.testing.assert_array_equal(tasks.phi_to_operator(phi), F)
    np.testing.assert_array_equal(tasks.lag_matrices(F), phi)
    assert tasks.task_table(F) == [(sign, lag, src) for _, sign, lag, src in DECODED[task_id]]


def test_library_spec_tables_and_names_match_the_spec():
    ids = {"repeat_copy": (255, 0, 0), "compose_copy": (9241421688590303745, 0, 0),
           "mix_262676_189": (9241421688590303745, 262676, 189), "mix_38637_145": (9241421688590303745, 38637, 145)}
    assert tasks.NAMED_TASKS == ids
    for name, tid in ids.items():
        assert tasks.SPEC_TABLES[name] == [(sign, lag, src) for _, sign, lag, src in DECODED[tid]]


def test_one_task_vocabulary_home():
    """The task vocabulary has one home, wavejax.tasks: wave and emt do not re-export it (issue 21)."""
    for name in tasks.__all__:
        assert not hasattr(wave, name) and not hasattr(emt, name), name


@pytest.mark.parametrize("text, expected", [("repeat_copy", (255, 0, 0)), ("0xff, 0, 0", (255, 0, 0)),
                                            ("9241421688590303745,262676,189", (9241421688590303745, 262676, 189)),
                                            ([255, 0, 0], (255, 0, 0)), (np.array([255, 0, 0]).tolist(),
                                                                           (255, 0, 0))])
def test_parse_task_id(text, expected):
    got = tasks.parse_task_id(text)
    assert got == expected and all(type(v) is int for v in got)


def test_lag_matrices_rejects_non_operator_shapes():
    with pytest.raises(ValueError, match="F"):
        tasks.lag_matrices(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="s=4"):
        tasks.task_table(tasks.decode_task("repeat_copy"), s=4)


@pytest.mark.parametrize("bad", [(255, 0), (254, 0, 0), (255, -1, 0), (255, 0, 256), (2**64, 0, 0), "T9",
                                 (255, 2097152, 0), (255, 8**8, 0), (255.0, 0, 0), (255, 0, True)])
def test_malformed_task_ids(bad):
    with pytest.raises(ValueError, match="task_id"):
        tasks.binary_vb_task(bad)


@pytest.mark.parametrize("kw", [dict(s=0), dict(d=0), dict(s=-2)])
def test_bad_sizes(kw):
    (name,) = kw
    with pytest.raises(ValueError, match=rf"\b{name} must be"):
        tasks.binary_vb_task((255, 0, 0), **kw)


def test_theorem_31_nonlinear_hds_float64():
    """Acceptance 2: a lattice initialised with x(1..s) reproduces a random nonlinear HDS to 1e-10 over 1000 steps."""
    s, d, T = 6, 3, 1000
    key = jax.random.key(7)
    A = jax.random.normal(key, (s, d, d)) * 0.7
    f = lambda H: jnp.tanh(jnp.einsum("sij,sj->i", A, H))
    x0 = jax.random.normal(jax.random.fold_in(key, 1), (s, d))
    ref = wave.nonlinear_hds(f, x0, T)  # direct window recursion (independent of the lattice code)
    Hs = wave.rollout(f, x0, jnp.zeros((T, d)), mask=jnp.zeros((T,), bool))
    assert Hs.dtype == jnp.float64
    np.testing.assert_allclose(Hs[:, -1], ref, rtol=0, atol=F64_ATOL)
    # the substrate always holds the last s states: H_i(t) = x(t - s + i)
    full = np.concatenate([np.asarray(x0), np.asarray(ref)])
    np.testing.assert_allclose(Hs[-1], full[-s:], rtol=0, atol=F64_ATOL)


def test_theorem_31_fibonacci_integers_exact():
    T = 40
    x0 = jnp.array([[0], [1], [1]], dtype=jnp.int64)
    Hs = wave.rollout(lambda H: H.sum(axis=0), x0, jnp.zeros((T, 1), jnp.int64), mask=jnp.zeros((T,), bool))
    seq = [0, 1, 1]
    for _ in range(T):
        seq.append(seq[-1] + seq[-2] + seq[-3])
    assert Hs.dtype == jnp.int64
    assert np.asarray(Hs[:, -1, 0]).tolist() == seq[3:]
    assert np.asarray(wave.fibonacci(x0, T)[:, 0]).tolist() == seq[3:]


@pytest.mark.parametrize("task_id", list(DECODED))
def test_lbc_matrix_structure_and_spectrum(task_id):
    """Acceptance 3: rank(M - shift) <= d; nonzero eigenvalues on the unit circle (1e-9)."""
    M = wave.lbc_matrix(tasks.binary_vb_task(task_id))
    S = wave.shift_matrix(8, 8)
    assert np.linalg.matrix_rank(M - S) <= 8
    ev = wave.spectrum(M)
    # M is a signed partial permutation: eigenvalues are roots of +-1 or exactly 0 (nilpotent chains give
    # numerically tiny values ~eps^(1/k); classify by the exact integer algebra below instead of a threshold).
    p = wave.autonomous_period(M)
    n = 64
    Mn = np.linalg.matrix_power(M, n)
    # on the recurrent part M^p acts as the identity: M^(n+p) = M^n, so nonzero eigenvalues satisfy lam^p = 1
    np.testing.assert_allclose(np.linalg.matrix_power(M, n + p), Mn, atol=0)
    nonzero = ev[np.abs(ev) > 1e-3]
    np.testing.assert_allclose(np.abs(nonzero), 1.0, atol=1e-9)
    assert len(nonzero) == np.linalg.matrix_rank(Mn)  # count of nonzero eigenvalues = rank of M^n


def test_nonzero_eigenvalue_counts_from_M():
    counts = {name: np.linalg.matrix_rank(np.linalg.matrix_power(wave.lbc_matrix(tasks.binary_vb_task(t)), 64))
              for name, t in tasks.NAMED_TASKS.items()}
    assert counts["repeat_copy"] == 64
    assert all(counts[n] < 64 for n in ("compose_copy", "mix_262676_189", "mix_38637_145"))
    assert counts["compose_copy"] == 36  # sum over dims j of its lag 8 - j: 8+7+...+1 = 36 slots in cycles


def test_varma_matches_lattice():
    phi = np.random.default_rng(0).standard_normal((4, 2, 2)) * 0.4
    x0 = np.random.default_rng(1).standard_normal((4, 2))
    ref = wave.varma(phi, x0, 50)
    Hs = wave.rollout(wave.linear_boundary(phi), jnp.asarray(x0), jnp.zeros((50, 2)), mask=jnp.zeros((50,), bool))
    np.testing.assert_allclose(Hs[:, -1], ref, rtol=1e-12, atol=1e-12)  # same products, different order
