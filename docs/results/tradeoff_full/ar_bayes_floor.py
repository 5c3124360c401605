"""The Bayes-optimal one-step MSE of the full run's switching-AR task (phase unknown, parameters known).

An exact forward filter over (phase k, steps e already spent in the current segment): dwell uniform on
{d_min..d_max}, the next phase uniform among the other K − 1, x_t | k ~ N(μ_k + Σ_j a_kj (x_{t−j} − μ_k), σ²). The
predictor is the posterior mean Σ_k P(k_t = k | x_<t) m_k. Printed per program as MSE / var(x), the normalised
units of the sweep, next to the phase-known floor σ²/var(x) that the task reports; then the means over the three
test programs of ``make_task("ar", length=4096, n_programs=20)`` (the full sweep's split).

    PYTHONPATH=. python docs/results/tradeoff_full/ar_bayes_floor.py > docs/results/tradeoff_full/ar_bayes_floor.txt
"""

import jax
import numpy as np

from wavejax.tradeoff import _tasks as tasks


def _hazard(d_min: int, d_max: int) -> np.ndarray:
    """h(e) = P(D = e + 1 | D >= e + 1) for e = 0..d_max − 1, D uniform on {d_min..d_max}."""
    D = np.arange(d_min, d_max + 1)
    surv = np.array([(D >= e + 1).sum() for e in range(d_max)], np.float64)
    return np.array([(D == e + 1).sum() / s if s else 1.0 for e, s in zip(range(d_max), surv, strict=True)])


def bayes_mse(x: np.ndarray, mu: np.ndarray, a: np.ndarray, sigma: float, d_min: int, d_max: int,
              burn: int = 4) -> float:
    """Mean squared one-step error of the posterior-mean predictor over steps t >= max(burn, p) of ``x`` (T,)."""
    K, p = a.shape
    haz = _hazard(d_min, d_max)
    post = np.zeros((K, d_max))
    post[:, 0] = 1.0 / K
    hist, err = np.zeros(p), []
    for t in range(x.size):
        if t >= p:
            m = mu + ((hist[None, :] - mu[:, None]) * a).sum(1)  # phase-conditional means (K,)
            if t >= burn:
                err.append((x[t] - post.sum(1) @ m) ** 2)
            post = post * np.exp(-0.5 * ((x[t] - m) / sigma) ** 2)[:, None]
            post /= post.sum()
        stay, leave = post * (1 - haz)[None, :], (post * haz[None, :]).sum(1)
        post = np.zeros_like(post)
        post[:, 1:] = stay[:, :-1]
        post[:, 0] = (leave.sum() - leave) / (K - 1)
        post /= post.sum()
        hist = np.concatenate([[x[t]], hist[:-1]])
    return float(np.mean(err))


def main() -> None:
    kp, kd, ks = jax.random.split(jax.random.fold_in(jax.random.key(0), 0), 3)  # make_task's keys (seed 0)
    P = tasks.switching_ar_params(kp, K=3, p=2, sigma=0.1)
    mu, a = np.asarray(P.mu, np.float64), np.asarray(P.a, np.float64)
    test = {int(i) for i in tasks.split_programs([str(i) for i in range(20)], key=ks)[2]}
    rows = {}
    for i, k in enumerate(jax.random.split(kd, 20)):
        x = np.asarray(tasks.switching_ar(k, P, 4096)[0], np.float64)
        rows[i] = (bayes_mse(x, mu, a, P.sigma, P.d_min, P.d_max) / x.var(), P.sigma**2 / x.var())
        print(f"program {i:2d}{' (test)' if i in test else ''}: Bayes MSE {rows[i][0]:.4f}, "
              f"phase-known floor {rows[i][1]:.4f}", flush=True)
    b, f = (float(np.mean([rows[i][j] for i in sorted(test)])) for j in (0, 1))
    print(f"test programs {sorted(test)}: Bayes MSE {b:.4f}, phase-known floor σ²/var {f:.4f}")


if __name__ == "__main__":
    main()
