"""The documentation: docstring citations resolve, README code blocks run alone, README commands match --help.

* Every ``*.md`` document a source file in ``wavejax/`` cites exists (``docs/<page>.md`` from the repository root,
  or a root file such as ``README.md``), and every ``§N`` section given with it is a numbered heading of that page;
  a bare ``§N`` in a model package (``wavejax/gsemm/...``) is a section of that model's guide ``docs/gsemm.md``.
* Every ```python block of README.md runs on its own in a fresh interpreter.
* The command list of README.md names exactly the commands and subcommands that ``wavejax --help`` and
  ``wavejax MODEL --help`` print.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "wavejax"
README = (ROOT / "README.md").read_text(encoding="utf-8")
MODELS = ("wave", "emt", "gsemm", "tradeoff", "gan")



def _output_files() -> frozenset[str]:
    """Names of the markdown files the code WRITES (``out / "report.md"``): mentions of them are not citations."""
    names = set()
    for path in SRC.rglob("*.py"):
        names |= set(re.findall(r'/\s*"([\w.-]+\.md)"', path.read_text(encoding="utf-8")))
    return frozenset(names)


OUTPUT_FILES = _output_files()

_MD = re.compile(r"(?<![\w/.<>-])([\w./-]*[\w-]\.md)(?![\w])")
_SEC = re.compile(r"§\s*(\d+(?:\.\d+)*)(?:\s*[-–]\s*(\d+(?:\.\d+)*))?")
_HEADING = re.compile(r"^#{1,6}\s+(\d+(?:\.\d+)*)\.?\s", re.M)


def headings(page: Path) -> set[str]:
    """The section numbers of a markdown page's numbered headings (``## 4. Training`` -> "4")."""
    return set(_HEADING.findall(page.read_text(encoding="utf-8")))


def _sections(tail: str) -> list[str]:
    """Section numbers cited right after a document name, ranges expanded to both ends (``§7.8-10``)."""
    tail = re.sub(r"\([a-z]\)", "", tail)
    tail = re.split(r"[;)\n]|\.md", tail, maxsplit=1)[0]
    out = []
    for a, b in _SEC.findall(tail):
        out.append(a)
        if b:
            pa, pb = a.split("."), b.split(".")
            out.append(".".join(pa[: max(len(pa) - len(pb), 0)] + pb))
    return out


def citation_problems(text: str, where: str, package_guide: Path | None = None) -> list[str]:
    """Problems with the document citations in ``text`` (empty when every citation resolves)."""
    problems = []
    cited_spans = []
    for m in _MD.finditer(text):
        name = m.group(1)
        if "/" in name and not name.startswith("docs/"):
            continue  # a path under an output folder (out/report.md, ROOT/README.md): not a citation
        if "/" not in name and name in OUTPUT_FILES:
            continue
        page = ROOT / name
        if "/" not in name and not page.is_file():
            problems.append(f"{where}: bare document name {name!r}; cite docs/{name} (and the page must exist)")
            continue
        if not page.is_file():
            problems.append(f"{where}: {name} does not exist")
            continue
        secs = _sections(text[m.end():m.end() + 120])
        cited_spans.append((m.start(), m.end() + 120))
        have = headings(page)
        problems += [f"{where}: {name} has no section §{s}" for s in secs if s not in have]
    if package_guide is not None:  # bare §N in a model package: a section of the model's guide
        have = headings(package_guide) if package_guide.is_file() else set()
        for m in _SEC.finditer(text):
            if any(a <= m.start() < b for a, b in cited_spans):
                continue
            for s in _sections(m.group(0)):
                if s not in have:
                    problems.append(f"{where}: bare §{s} is not a section of {package_guide.relative_to(ROOT)}")
    return problems


def _package_guide(path: Path) -> Path | None:
    rel = path.relative_to(SRC).parts
    return ROOT / "docs" / f"{rel[0]}.md" if len(rel) > 1 and rel[0] in MODELS else None


def test_every_docstring_citation_resolves():
    problems = []
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 50
    for path in files:
        problems += citation_problems(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)),
                                      _package_guide(path))
    assert not problems, "\n".join(problems)


def test_citation_check_fails_on_a_missing_document_or_section():
    assert {"report.md", "table.md", "similarity.md"} <= OUTPUT_FILES
    assert citation_problems("see docs/wave.md §2.5 and docs/gsemm.md §4.1-4.3, README.md", "x") == []
    assert citation_problems("writes <out>/report.md and report.md", "x") == []
    assert len(citation_problems("(docs/nowhere.md §1)", "x")) == 1
    assert len(citation_problems("(docs/wave.md §99.1)", "x")) == 1
    assert len(citation_problems("(docs/emt.md §4, §42; docs/wave.md §2.5)", "x")) == 1
    assert len(citation_problems("(docs/gan.md §2.1-2.9)", "x")) == 1  # the range's end is checked too
    assert len(citation_problems("(emt.md §4)", "x")) == 1  # bare page name: not a path in the repository
    assert len(citation_problems("a §77 of the guide", "x", ROOT / "docs" / "gan.md")) == 1
    assert citation_problems("(§2.4)", "x", ROOT / "docs" / "gan.md") == []


def test_model_guides_exist_with_the_common_section_numbers():
    for name in (*MODELS, "rnn"):
        assert (ROOT / "docs" / f"{name}.md").is_file(), name
    for name in MODELS:
        have = headings(ROOT / "docs" / f"{name}.md")
        assert {str(i) for i in range(1, 9)} <= have, (name, sorted(have))


# ------------------------------------------------------------------------------------------------ README

def _python_blocks(text: str = README) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)


#: the README's blocks and the 30-second example of the documentation's home page
_BLOCKS = [("README.md", b) for b in _python_blocks()] + [
    ("docs/index.md", b) for b in _python_blocks((ROOT / "docs" / "index.md").read_text(encoding="utf-8"))]


def test_readme_has_python_examples_for_every_model():
    blocks = _python_blocks()
    for model in MODELS:
        assert any(f"wavejax.{model}" in b or f"wavejax import {model}" in b for b in blocks), model


@pytest.mark.parametrize("i", range(len(_BLOCKS)), ids=[f"{f}:{i}" for i, (f, _) in enumerate(_BLOCKS)])
def test_readme_python_block_runs_alone(i, tmp_path):
    where, code = _BLOCKS[i]
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(ROOT)}
    env.pop("XLA_FLAGS", None)
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, f"{where} python block {i} failed:\n{code}\n--- stderr ---\n{r.stderr[-3000:]}"


def _help(fn, *args) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf), contextlib.suppress(SystemExit):
        fn(*args)
    return buf.getvalue()


def _readme_commands() -> dict[str, set[str]]:
    """The ``wavejax ...`` lines of README's command-line block: command -> its subcommands (maybe empty)."""
    sec = README.split("## Command line", 1)[1]
    block = re.search(r"```text\n(.*?)```", sec, re.S).group(1)
    out: dict[str, set[str]] = {}
    for line in block.splitlines():
        m = re.match(r"wavejax\s+(\w+)\s*(.*)", line)
        if m:
            cmd, rest = m.groups()
            subs = set() if cmd not in MODELS else {s.strip() for s in rest.split("#")[0].split("|") if s.strip()}
            out[cmd] = subs
    return out


def test_readme_command_list_matches_help():
    from wavejax import cli

    top = _help(cli.main, ["--help"])
    listed = _readme_commands()
    expected_top = {"reproduce", "bench", "launch", *cli.MODEL_CLIS}
    assert set(listed) == expected_top, (sorted(listed), sorted(expected_top))
    for cmd in ("reproduce", "bench", "launch"):
        assert f"wavejax {cmd}" in top, cmd
    assert set(cli.MODEL_CLIS) == set(MODELS)
    for model, path in cli.MODEL_CLIS.items():
        usage = _help(importlib.import_module(path).main, ["--help"])
        subs = set(re.search(r"\{([^}]*)\}", usage).group(1).split(","))
        assert listed[model] == subs, (f"README lists `wavejax {model}` subcommands {sorted(listed[model])}, "
                                       f"`wavejax {model} --help` has {sorted(subs)}: write "
                                       f"`wavejax {model:<8} {' | '.join(sorted(subs))}`")


def test_readme_keeps_its_generated_blocks_and_headings():
    for marker in ("<!-- bench:start -->", "<!-- bench:end -->", "<!-- results:start -->", "<!-- results:end -->"):
        assert README.count(marker) == 1, marker
    for heading in ("## Install", "## GPU and TPU", "## What reproduces"):
        assert re.search(rf"^{heading}", README, re.M), heading
    assert "make reproduce" in README and "make test" in README


def test_readme_relative_links_exist():
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    local = [u for u in links if not re.match(r"[a-z]+:", u)]
    assert local
    missing = [u for u in local if not (ROOT / u).exists()]
    assert not missing, missing
