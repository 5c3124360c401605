"""Layout rules of the style guide (STYLE 1, issue #11): no module over 400 lines, no function over 60 lines of
code (docstrings, blank lines and comment-only lines aside). Run ``python tests/test_layout.py`` for the list."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "wavejax"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _code_lines(src: str) -> set[int]:
    """Line numbers that hold code tokens (not comments, blank lines or docstrings; docstrings removed later)."""
    lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                        tokenize.ENDMARKER):
            continue
        lines.update(range(tok.start[0], tok.end[0] + 1))
    return lines


def _docstring_lines(tree: ast.AST) -> set[int]:
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                out.update(range(body[0].lineno, body[0].end_lineno + 1))
    return out


def offenders() -> list[str]:
    bad: list[str] = []
    for path in sorted(ROOT.rglob("*.py")):
        src = path.read_text()
        rel = path.relative_to(ROOT.parent)
        n = src.count("\n")
        if n > MAX_MODULE_LINES:
            bad.append(f"{rel}: {n} lines (max {MAX_MODULE_LINES})")
        tree = ast.parse(src)
        code = _code_lines(src) - _docstring_lines(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                k = len([i for i in code if node.lineno <= i <= node.end_lineno])
                if k > MAX_FUNCTION_LINES:
                    bad.append(f"{rel}:{node.lineno} {node.name}: {k} lines of code (max {MAX_FUNCTION_LINES})")
    return bad


def test_module_and_function_sizes():
    bad = offenders()
    assert not bad, "\n".join(bad)


def test_the_counter_counts_code_not_docstrings():
    src = 'def f():\n    """doc\n\n    more doc\n    """\n    # comment\n\n    x = 1\n    return (x +\n        1)\n'
    tree = ast.parse(src)
    assert sorted(_code_lines(src) - _docstring_lines(tree)) == [1, 8, 9, 10]


if __name__ == "__main__":
    print("\n".join(offenders()) or "all within limits")


def test_dependency_lower_bounds_are_tested_versions():
    """Issue 14 item 11: pyproject allowed jax>=0.4.30 while the code needs jax.shard_map(check_vma=...). Every
    dependency has a lower bound, the installed (tested) versions satisfy it, and jax/jaxlib start at 0.10."""
    import importlib.metadata as md
    import tomllib

    from packaging.requirements import Requirement
    from packaging.version import Version

    proj = tomllib.loads((ROOT.parent / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in proj["dependencies"] + proj["optional-dependencies"]["dev"]]
    for r in reqs:
        lower = [Version(s.version) for s in r.specifier if s.operator == ">="]
        assert lower, f"{r.name} has no lower bound"
        installed = md.version(r.name)
        assert r.specifier.contains(installed, prereleases=True), f"{r.name} {installed} is outside {r.specifier}"
    bounds = {r.name: min(Version(s.version) for s in r.specifier if s.operator == ">=") for r in reqs}
    assert bounds["jax"] >= Version("0.10") and bounds["jaxlib"] >= Version("0.10")


def test_jax_computes_vmapped_masked_reductions_correctly():
    """The installed jax must not have the CPU miscompile of jax/jaxlib 0.10.2 (jax-ml/jax#39103;
    docs/results/xla_vmap_miscompile): a masked log-loss vmapped over 8 members with one replicated (3, 4095)
    target batch gave members 2-7 the loss of member 0 or 1 (error 2.7e-2). Reference: float64 NumPy."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    def loss(pred, y, mask):
        m = jnp.broadcast_to(mask[None, :], pred.shape[:2]).astype(pred.dtype)
        nll = -jnp.sum(y * jax.nn.log_softmax(pred, axis=-1), axis=-1)
        return jnp.sum(m * nll) / jnp.maximum(jnp.sum(m), 1.0)

    rng = np.random.default_rng(0)
    pred = rng.standard_normal((8, 3, 4095, 3)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, (3, 4095))]
    mask = np.arange(4095) >= 4
    got = np.asarray(jax.jit(jax.vmap(loss, in_axes=(0, None, None)))(pred, y, mask))
    p = pred.astype(np.float64)
    logp = p - np.log(np.exp(p).sum(-1, keepdims=True))
    want = -(y[None].astype(np.float64) * logp).sum(-1)[:, :, 4:].mean(axis=(1, 2))
    np.testing.assert_allclose(got, want, rtol=1e-5, err_msg=f"jax {jax.__version__}: see jax-ml/jax#39103")
