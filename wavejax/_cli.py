"""Helpers shared by the per-model command lines (``wavejax/<model>/cli.py``).

Every command is a pair ``(ConfigClass, fn)``: tyro generates the flags from the frozen config class (every field,
nested configs as ``--train.lr``), ``--preset quick|full`` (or any name in ``ConfigClass.PRESETS``) seeds the
defaults from that classmethod before the flags are applied, and ``--out DIR`` names the output folder.
``fn(cfg, out) -> Result`` does the work; the runner writes ``out/results.json`` in the one schema of
:mod:`wavejax.report._results` and prints the claims. A config class with ``X64 = True`` runs in float64
(:func:`wavejax.precision.enable_x64`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import importlib
import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import tyro

from wavejax._flags import reject_repeated
from wavejax.report._experiment import Result, preset, presets

__all__ = ["run_subcommands", "run_command", "default_out", "experiment_command", "experiment_commands",
           "parse_command", "refuse_empty_out", "one_line_errors"]

Command = tuple[type, Callable[..., Any]]


def default_out(model: str, command: str) -> Path:
    """``runs/<model>-<command>-<timestamp>``: the default output folder of a CLI run."""
    from wavejax.distributed import agreed_time

    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(agreed_time()))  # one folder for all processes
    return Path("runs") / f"{model}-{command}-{stamp}"


def _split_preset(argv: list[str]) -> tuple[str | None, list[str]]:
    name, rest, it = None, [], iter(argv)
    for a in it:
        if a == "--preset":
            name = next(it, None)
            if name is None:
                raise SystemExit("--preset needs a value (e.g. --preset full)")
        elif a.startswith("--preset="):
            name = a.split("=", 1)[1]
        else:
            rest.append(a)
    return name, rest


def _wrapper(cls: type, default: Any = None) -> type:
    """A dataclass ``(config, out, preset)`` for tyro; ``default`` (a preset instance) seeds the config's flags."""
    names = presets(cls)
    spec = dataclasses.field() if default is None else dataclasses.field(default=default)
    fields = [("config", Annotated[cls, tyro.conf.arg(name="")], spec),
              ("out", Annotated[Path | None, tyro.conf.arg(
                  help="output folder (default runs/<model>-<command>-<timestamp>)")], dataclasses.field(default=None))]
    fields.append(("overwrite", Annotated[bool, tyro.conf.arg(
        help="start afresh: remove the files the old run in --out wrote (listed in its wavejax-run.json; files "
             "wavejax did not write stay). Default: a rerun with the same config resumes, another config is "
             "refused")], dataclasses.field(default=False)))
    if names:
        lit = Literal[names]  # type: ignore[valid-type]
        fields.append(("preset", Annotated[lit | None, tyro.conf.arg(
            help="seed every default from this preset (the flags then override it)")], dataclasses.field(default=None)))
    w = dataclasses.make_dataclass(f"{cls.__name__}Command", fields, frozen=True, kw_only=True)
    w.__doc__ = cls.__doc__
    return w


def refuse_empty_out(argv: list[str], prog: str) -> None:
    """``--out ''`` would silently mean the working directory: refused (tyro reads it as ``Path(".")``)."""
    for i, a in enumerate(argv):
        if (a == "--out" and i + 1 < len(argv) and not argv[i + 1].strip()) or a.strip() == "--out=":
            raise SystemExit(f"{prog}: error: --out must name an output folder; got --out ''")


def _parse(cls: type, argv: list[str], *, prog: str) -> tuple[Any, Path | None, bool]:
    refuse_empty_out(argv, prog)
    reject_repeated(argv, prog=prog)
    name, rest = _split_preset(argv)
    if name is not None and name not in presets(cls):
        raise SystemExit(f"{prog}: --preset must be one of {', '.join(presets(cls)) or '(none)'}; got {name!r}")
    default = preset(cls, name) if name is not None else None
    try:
        parsed = tyro.cli(_wrapper(cls, default), args=rest, prog=prog)
    except (ValueError, TypeError) as e:  # a config's own check (its __post_init__): one line, no traceback
        raise SystemExit(f"{prog}: error: {e}") from e
    return parsed.config, parsed.out, parsed.overwrite


def parse_command(cls: type, argv: list[str], *, prog: str) -> tuple[Any, Path | None]:
    """Parse ``argv`` into ``(cfg, out)`` for config class ``cls`` (``--preset`` seeds the defaults)."""
    return _parse(cls, argv, prog=prog)[:2]


def _record(prog: str, cfg: Any) -> dict[str, Any]:
    """What the ``"cli"`` owner of ``out/wavejax-run.json`` records: the command and its config."""
    from wavejax.io import to_jsonable

    return {"command": prog, "config": to_jsonable(cfg)}


def run_command(prog: str, cls: type, fn: Callable[..., Any], cfg: Any, out: Path | None, *,
                overwrite: bool = False) -> Any:
    """Lock ``out`` and record the run in its ``wavejax-run.json`` (refusing another config, see
    :mod:`wavejax.runs`), run ``fn(cfg, out)``, write ``out/results.json`` from the :class:`Result` it returns and
    print its claims."""
    from wavejax.precision import enable_x64
    from wavejax.runs import ConfigMismatch, FolderInUse, folder, run_folder

    model, command = (prog.split() + ["", ""])[1:3]
    try:
        out = folder(out) if out is not None else default_out(model, command)
    except ValueError as e:
        raise SystemExit(f"{prog}: {e}") from None
    try:
        with one_line_errors(prog, out):
            if out.exists() and not out.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(out))
            with run_folder(out, _record(prog, cfg), owner="cli", state=CLI_STATE, overwrite=overwrite):
                return _run(prog, cls, fn, cfg, out, enable_x64)
    except (ConfigMismatch, FolderInUse) as e:
        raise SystemExit(f"{prog}: {e}") from None


CLI_STATE = ("results.json",)  # what the runner itself writes in a run folder (fn writes and records the rest)


def _run(prog: str, cls: type, fn: Callable[..., Any], cfg: Any, out: Path, enable_x64: Callable) -> Any:
    from wavejax.distributed import is_main_process
    from wavejax.report._results import write_results

    if getattr(cls, "X64", False):
        enable_x64()
    started = time.time()
    res = fn(cfg, out)
    if isinstance(res, Result) and is_main_process():  # several processes: only process 0 writes and prints
        write_results(out, res, command=prog, config=cfg, started=started)
        for r in res.rows:
            print(f"{r.quantity}: {r.measured} (reference {r.paper}; holds: {r.holds})")
        print(f"results and figures in {out}")
    return res


_CAUSES = {errno.ENOSPC: "no space left on the device (disk full)", errno.EDQUOT: "disk quota exceeded",
           errno.EROFS: "read-only file system", errno.EACCES: "permission denied (not writable?)",
           errno.EPERM: "operation not permitted", errno.ENOTDIR: "not a folder", errno.EEXIST: "not a folder"}
_RESUMABLE = (errno.ENOSPC, errno.EDQUOT, errno.EIO)


@contextlib.contextmanager
def one_line_errors(prog: str, out: Path | None = None) -> Iterator[None]:
    """Turn Ctrl-C, I/O failures (disk full, unwritable or invalid folder) and corrupt-file errors into one line
    on stderr naming the path and the cause (with "rerun the same command to resume" where a rerun resumes) and
    a non-zero exit. ``WAVEJAX_DEBUG=1`` in the environment: the full traceback instead."""
    if os.environ.get("WAVEJAX_DEBUG", "") not in ("", "0"):
        yield
        return
    resume = f"; rerun the same command to resume (in {out})" if out is not None else ""
    try:
        yield
    except KeyboardInterrupt:
        raise SystemExit(f"{prog}: interrupted{resume}") from None
    except OSError as e:
        if e.filename is None:  # a library message that names its path itself
            raise SystemExit(f"{prog}: error: {' '.join(str(e).split()) or type(e).__name__}") from None
        cause = _CAUSES.get(e.errno or -1) or " ".join((e.strerror or str(e) or type(e).__name__).split())
        again = resume if e.errno in _RESUMABLE else ""
        raise SystemExit(f"{prog}: {e.filename}: {cause}{again}") from None
    except ValueError as e:  # bad input and corrupt files: the message names the argument or the path
        raise SystemExit(f"{prog}: error: {' '.join(str(e).split())}") from None


def run_subcommands(prog: str, commands: Mapping[str, Command], argv: list[str]) -> Any:
    """Parse ``argv`` (``SUBCOMMAND [--preset P] [--out DIR] [--flags]``) and run that subcommand.

    Args:
      prog: program name shown in ``--help`` (e.g. ``"wavejax wave"``).
      commands: ``{name: (ConfigClass, fn)}``; ``fn(cfg, out) -> Result`` does the work.
      argv: the arguments after the model name.
    """
    if not argv or argv[0] not in commands:  # help or a bad name: tyro's subcommand listing and error
        tyro.extras.subcommand_cli_from_dict({k: _wrapper(c) for k, (c, _) in commands.items()},
                                             prog=prog, args=argv)
        raise SystemExit(2)  # pragma: no cover - tyro exits first
    name = argv[0]
    cls, fn = commands[name]
    cfg, out, overwrite = _parse(cls, argv[1:], prog=f"{prog} {name}")
    return run_command(f"{prog} {name}", cls, fn, cfg, out, overwrite=overwrite)


def experiment_command(model: str, name: str) -> Callable[[Any, Path], Result]:
    """``fn(cfg, out)`` running the headline experiment ``<model>.<name>`` (in float64 if it asks for it)."""

    def run(cfg: Any, out: Path) -> Result:
        from wavejax.precision import x64_scope

        experiments = importlib.import_module(f"wavejax.{model}._experiments")
        exp = next(e for e in experiments.EXPERIMENTS if e.name == f"{model}.{name}")
        with x64_scope(exp.x64):
            return exp.run(cfg, out)

    return run


def experiment_commands(model: str) -> dict[str, Command]:
    """``{short name: (config class, runner)}`` for every experiment of ``wavejax.<model>._experiments``."""
    experiments = importlib.import_module(f"wavejax.{model}._experiments")
    out: dict[str, Command] = {}
    for e in experiments.EXPERIMENTS:
        short = e.name.split(".", 1)[1]
        out[short] = (e.config, experiment_command(model, short))
    return out
