"""The wheel a user installs (issue 19): it builds from the sources, carries LICENSE and py.typed, installs into a
fresh virtual environment with its declared dependencies, and there runs the README's first Python code block.

Marked ``wheel`` (not ``slow``), so ``make test`` runs it. By default the fresh venv sees the running
environment's packages through a ``.pth`` line appended at the END of its ``sys.path`` and installs the wheel with
``pip install --no-index``: pip checks every declared dependency and bound against those tested versions and
installs nothing else, so the test needs no network and takes seconds (a full resolve from the index took 391 s
here under load ~11). ``WAVEJAX_WHEEL_FULL=1`` makes pip resolve every dependency from the index instead. Set
``WAVEJAX_WHEEL_DIR`` to keep the built wheel (e.g. for a notebook's ``WAVEJAX_PIP``).
"""

import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd, **kw):
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert out.returncode == 0, f"{cmd}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


def readme_first_python_block() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    assert blocks, "README.md has no ```python block"
    return blocks[0]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build the wheel from a copy of the sources (pip's isolated build: setuptools from the build floor)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "wavejax", src / "wavejax", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = Path(os.environ.get("WAVEJAX_WHEEL_DIR") or tmp_path_factory.mktemp("dist"))
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, src], timeout=600)
    wheels = sorted(dist.glob("wavejax_memory-*.whl"))
    assert len(wheels) == 1, list(dist.iterdir())
    return wheels[0]


def test_wheel_carries_license_and_py_typed(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "wavejax/py.typed" in names
    assert any(re.fullmatch(r"wavejax_memory-[^/]+\.dist-info/licenses/LICENSE", n) for n in names), names[-10:]
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "Name: wavejax-memory" in meta and "License-Expression: Apache-2.0" in meta
    assert "Apache License" in zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("LICENSE"))).decode()
    proj = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert any(r.startswith("jax>=") and "<" in r for r in proj["project"]["dependencies"])  # bounded above
    assert proj["build-system"]["requires"][0] == "setuptools>=77"


def _fresh_venv(tmp_path: Path) -> tuple[Path, Path]:
    """A new venv (python, its site-packages) that sees this environment's tested packages after its own."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True, clear=True)
    py = env_dir / "bin" / "python"
    site = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    if os.environ.get("WAVEJAX_WHEEL_FULL") != "1":
        (site / "zz_tested_deps.pth").write_text("\n".join(p for p in sys.path if p.endswith("site-packages")) + "\n")
    return py, site


def _clean_env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "COLAB_TPU_ADDR", "TPU_NAME", "TPU_ACCELERATOR_TYPE")}
    return {**env, "JAX_PLATFORMS": "cpu", **extra}


def test_wheel_installs_in_a_fresh_venv_and_runs_the_readme(wheel, tmp_path):
    py, site = _fresh_venv(tmp_path)
    if os.environ.get("WAVEJAX_WHEEL_FULL") == "1":
        _run([py, "-m", "pip", "install", "-q", "--prefer-binary", wheel], timeout=900)
    else:  # dependencies: the tested ones of this environment, after the venv's own site-packages
        _run([py, "-m", "pip", "install", "-q", "--no-index", "--no-build-isolation", wheel], timeout=300)
        listed = _run([py, "-m", "pip", "list", "--path", site, "--format", "freeze"]).stdout
        assert "wavejax-memory==" in listed, listed
    script = tmp_path / "readme_block.py"
    script.write_text(readme_first_python_block())
    env = _clean_env()
    out = _run([py, "-c", "import wavejax, sys; print(wavejax.__file__)"], cwd=tmp_path, env=env)
    assert str(site) in out.stdout  # the installed wheel, not the checkout
    _run([py, script], cwd=tmp_path, env=env, timeout=600)


def notebook_install_cell() -> str:
    """Cell 1 of every notebook (the same code in each)."""
    import json

    cells = {p.name: "".join(json.loads(p.read_text())["cells"][0]["source"])
             for p in sorted((ROOT / "notebooks").glob("*.ipynb"))}
    assert cells and len(set(cells.values())) == 1, sorted(cells)
    return next(iter(cells.values()))


def test_notebooks_name_no_unverified_repository():
    for p in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert "github.com/wavejax" not in p.read_text(), p.name


def test_notebook_install_cell_installs_and_keeps_the_runtimes_jax(wheel, tmp_path):
    """Cell 1 in a fresh venv whose jax (0.10.1, inside wavejax's bounds) is already there: it installs wavejax from
    the wheel named by WAVEJAX_PIP, leaves jax/jaxlib where and as they were, prints backend and device kind; with
    an accelerator runtime's variable set while JAX is on CPU it raises."""
    cell = notebook_install_cell()
    assert re.search(r'^WAVEJAX_PIP = os\.environ\.get\("WAVEJAX_PIP", "wavejax-memory"\)$', cell, flags=re.M)
    py, site = _fresh_venv(tmp_path)
    where = "import jax, jaxlib; print(jax.__version__, jaxlib.__version__, jax.__file__)"
    before = _run([py, "-c", where], env=_clean_env()).stdout
    assert before.startswith("0.10.1 0.10.1 ") and str(site) not in before
    script = tmp_path / "cell1.py"
    script.write_text(cell)
    env = _clean_env(WAVEJAX_PIP=str(wheel), PIP_NO_INDEX="1")
    out = _run([py, script], cwd=tmp_path, env=env, timeout=300).stdout
    assert "backend: cpu, device: cpu" in out
    assert _run([py, "-c", where], env=_clean_env()).stdout == before  # jax unchanged, not reinstalled
    listed = _run([py, "-m", "pip", "list", "--path", site, "--format", "freeze"]).stdout
    assert "wavejax-memory==" in listed and "jax==" not in listed, listed
    tpu = subprocess.run([str(py), str(script)], cwd=tmp_path, env={**env, "COLAB_TPU_ADDR": "10.0.0.2:8470"},
                         capture_output=True, text=True, timeout=300)
    assert tpu.returncode != 0 and "RuntimeError" in tpu.stderr and "COLAB_TPU_ADDR" in tpu.stderr
