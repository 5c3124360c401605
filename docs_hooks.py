"""MkDocs hook: the command-line page is generated from ``wavejax --help`` at build time.

``docs/cli.md`` holds the marker ``<!-- cli-help -->``; it is replaced by the help text of the ``wavejax`` command,
of ``reproduce``, ``bench`` and ``launch``, of every model command and of every model subcommand, produced in this
process by the same parsers the console command uses (so the page cannot drift from the code).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import os
import re
from pathlib import Path

MARKER = "<!-- cli-help -->"
REPO = "https://github.com/wavejax/wavejax/blob/main/"
#: docs page marker -> the README block (between its generated-block markers) that replaces it
README_BLOCKS = {"<!-- readme:bench -->": ("<!-- bench:start -->", "<!-- bench:end -->"),
                 "<!-- readme:results -->": ("<!-- results:start -->", "<!-- results:end -->")}


def _capture(fn, *args) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf), contextlib.suppress(SystemExit):
        fn(*args)
    return buf.getvalue().rstrip()


def _block(title: str, text: str) -> str:
    return f"### `{title}`\n\n```text\n{text}\n```\n"


def subcommands(usage: str) -> list[str]:
    """The subcommand names of a tyro usage line ``usage: wavejax gan [-h] {a,b,c}``."""
    m = re.search(r"\{([^}]*)\}", usage.splitlines()[0] if usage else "")
    return m.group(1).split(",") if m else []


def cli_help_markdown() -> str:
    """Markdown with the help of every ``wavejax`` command and subcommand."""
    os.environ.setdefault("COLUMNS", "100")
    import tyro

    from wavejax import cli
    from wavejax.launch import main as launch_main

    parts = [_block("wavejax --help", _capture(cli.main, ["--help"]))]
    parts.append(_block("wavejax reproduce --help", _capture(
        lambda: tyro.cli(cli.ReproduceConfig, args=["--help"], prog="wavejax reproduce"))))
    parts.append(_block("wavejax bench --help", _capture(
        lambda: tyro.cli(cli.BenchConfig, args=["--help"], prog="wavejax bench"))))
    parts.append(_block("wavejax launch --help", _capture(launch_main, ["--help"])))
    for model, path in cli.MODEL_CLIS.items():
        mod = importlib.import_module(path)
        top = _capture(mod.main, ["--help"])
        parts.append(f"## `wavejax {model}`\n\n" + _block(f"wavejax {model} --help", top))
        for sub in subcommands(top):
            parts.append(_block(f"wavejax {model} {sub} --help", _capture(mod.main, [sub, "--help"])))
    return "\n".join(parts)


def readme_block(readme: str, start: str, end: str) -> str:
    """The README text between two generated-block markers, its repository-relative links made to work in docs/."""
    if start not in readme or end not in readme:
        raise ValueError(f"README.md lacks the markers {start} ... {end}")
    block = readme.split(start, 1)[1].split(end, 1)[0].strip()

    def fix(m: re.Match) -> str:  # docs/x -> x (inside the site); other repository files -> GitHub
        url = m.group(1)
        return f"]({url[5:]})" if url.startswith("docs/") else f"]({REPO}{url})"

    return re.sub(r"\]\((?![a-z]+:|#)([^)]+)\)", fix, block)


_ROLE = re.compile(r":(?:class|func|mod|meth|data|attr|obj|exc):(?=<code>)")
_CITE = re.compile(r"(?<![\w/\"'])docs/([\w-]+)\.md(?:\s+§([\d.]+\d))?")


def _section_anchors(page: Path) -> dict[str, str]:
    """Section number -> anchor id of a guide's numbered headings (the ids the toc extension gives them)."""
    from markdown.extensions.toc import slugify

    out = {}
    for m in re.finditer(r"^#{1,6}\s+((\d+(?:\.\d+)*)\.?\s.*)$", page.read_text(encoding="utf-8"), re.M):
        out[m.group(2)] = slugify(m.group(1).strip(), "-")
    return out


def link_citations(html: str, docs_dir: Path, prefix: str) -> str:
    """Make ``docs/gsemm.md §4.1`` in rendered docstrings a link to the guide's section; drop Sphinx roles."""
    html = _ROLE.sub("", html)

    def link(m: re.Match) -> str:
        page = docs_dir / f"{m.group(1)}.md"
        if not page.is_file():
            return m.group(0)
        anchor = _section_anchors(page).get(m.group(2) or "", "")
        return f'<a href="{prefix}{m.group(1)}/{"#" + anchor if anchor else ""}">{m.group(0)}</a>'

    return _CITE.sub(link, html)


def on_page_content(html: str, page, config, files) -> str:  # noqa: ARG001 - the MkDocs hook signature
    if page.file.src_uri.startswith("api/"):
        html = link_citations(html, Path(config["docs_dir"]), "../../")
    return html


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 - the MkDocs hook signature
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, cli_help_markdown())
    if any(k in markdown for k in README_BLOCKS):
        readme = (Path(config["config_file_path"]).parent / "README.md").read_text(encoding="utf-8")
        for marker, (start, end) in README_BLOCKS.items():
            if marker in markdown:
                markdown = markdown.replace(marker, readme_block(readme, start, end))
    return markdown


# Docstrings whose plain-text indexing (``Phi[keep][:, keep]``, ``[δ(s, x) = s']``) reads as a Markdown reference
# link; each entry is one known false alarm of mkdocs-autorefs, so every other unresolved reference still fails the
# strict build.
_KNOWN_NOT_REFERENCES = ("Could not find cross-reference target ':, keep'",
                         "Could not find cross-reference target 'δ(s, x) = s''")


class _DropKnown(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not any(k in record.getMessage() for k in _KNOWN_NOT_REFERENCES)


def on_pre_build(config) -> None:  # noqa: ARG001 - the MkDocs hook signature (runs after strict mode's counter is set)
    for handler in logging.getLogger("mkdocs").handlers:  # the console and the strict-mode warning counter
        if not any(isinstance(f, _DropKnown) for f in handler.filters):
            handler.addFilter(_DropKnown())
