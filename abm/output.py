"""Writing a run's folder so that a reader only ever sees one whole run or nothing.

A run (or an ensemble of seeds: a ``seed-N`` folder per seed and a ``summary`` table) writes its tables, graph
and ``run.json`` into a hidden staging folder beside ``--out``
(``.NAME.tmp-PID-RANDOM``) and renames it into place once everything is written.  An earlier run in
``--out`` is swapped out in one step (``renameat2`` with ``RENAME_EXCHANGE``) where the kernel offers it,
otherwise by two renames: the old folder to ``.NAME.trash-PID-RANDOM``, the new one into place.  Between
those two renames (microseconds) ``--out`` does not exist; it never holds a mix.  A lock file beside the
folder (``.NAME.lock``, ``flock``) keeps a second run from writing the same folder at the same time, and the
next run into a parent folder removes the staging and trash folders that killed runs left there.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import platform
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from tokenomy.abm.processes import pid_alive


class OutputError(OSError):
    """The output folder cannot be written."""


def prepare_out_dir(path: Path) -> Path:
    """Create the folder (and parents) and check it is writable, before any simulation work."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".tokenomy-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"--out {path}: cannot write there ({exc.strerror or exc})") from None
    return path


RUN_FILE = re.compile(
    r"(daily|hourly|agents|summary)\.(parquet|csv)|graph\.graphml|run\.json"  # what a run or an ensemble writes
    r"|\..*\.tmp-\d+|\.tokenomy-write-test"
)  # and what a killed one could leave
SEED_FOLDER = re.compile(r"seed-\d+")  # one seed's run in an ensemble's folder
_LEFTOVER = re.compile(r"\.(?P<name>.+)\.(?:tmp|trash)-(?P<pid>\d+)-[0-9a-f]{8}")
STALE_AFTER_S = 6 * 3600.0


def _is_run_entry(entry: Path) -> bool:
    """A file a run writes, or an ensemble's ``seed-N`` folder holding only such files."""
    if RUN_FILE.fullmatch(entry.name):
        return True
    if not SEED_FOLDER.fullmatch(entry.name) or entry.is_symlink() or not entry.is_dir():
        return False
    return all(RUN_FILE.fullmatch(p.name) for p in entry.iterdir())


def check_run_folder(out: Path) -> None:
    """Refuse an ``--out`` that cannot hold a run or holds something other than a Tokenomy run (or ensemble)."""
    if out.name in ("", ".", ".."):
        raise OutputError(f"--out {str(out)!r}: give a folder name (a run replaces the whole folder)")
    if out.is_symlink():
        raise OutputError(f"--out {out}: is a symbolic link; give the folder it points to")
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out}: exists and is not a folder")
    if out.is_dir():
        try:
            foreign = sorted(p.name for p in out.iterdir() if not _is_run_entry(p))
        except OSError as exc:
            raise OutputError(f"--out {out}: cannot read it ({exc.strerror or exc})") from None
        if foreign:
            raise OutputError(
                f"--out {out}: holds files a run does not write ({', '.join(foreign[:3])}); refusing to replace it"
            )

    return True


def clean_leftovers(parent: Path, own_name: str | None = None) -> list[Path]:
    """Remove the staging and trash folders killed runs left in ``parent``: every one of ``own_name`` (whose lock
    the caller holds), and others whose process is gone or that are older than :data:`STALE_AFTER_S`."""
    removed = []
    for entry in parent.iterdir():
        m = _LEFTOVER.fullmatch(entry.name)
        if m is None or not entry.is_dir() or entry.is_symlink():
            continue
        try:
            old = time.time() - entry.stat().st_mtime > STALE_AFTER_S
            ours = all(_is_run_entry(p) for p in entry.iterdir())  # only what a run writes
        except FileNotFoundError:
            continue
        if not ours:
            continue
        if m["name"] == own_name or old or not pid_alive(int(m["pid"])):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _cannot_write(out: Path, exc: OSError, kept: bool = False) -> OutputError:
    """One line naming ``out`` and why; ``kept``: writing the run failed (naming the file, when the error does), and
    the earlier run is kept."""
    what = f"{out}/{Path(exc.filename).name}" if kept and exc.filename else str(out)
    reason = exc.strerror or " ".join(str(exc).split())[:160]
    return OutputError(f"--out {what}: cannot write there ({reason})" + ("; what was there is kept" if kept else ""))


@contextlib.contextmanager
def _lock(out: Path) -> Iterator[None]:
    path = out.with_name(f".{out.name}.lock")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise _cannot_write(out, exc) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise OutputError(f"another tokenomy run is writing {out} (pid {holder})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # the lock file stays: removing it would let two runs lock two different files


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2``); False where the system does not offer it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _replace(staged: Path, out: Path) -> None:
    """Put the finished folder ``staged`` at ``out``, replacing an earlier run there."""
    if not out.exists():
        staged.rename(out)
        return
    if _exchange(staged, out):
        shutil.rmtree(staged)  # now the earlier run
        return
    trash = out.with_name(f".{out.name}.trash-{os.getpid()}-{secrets.token_hex(4)}")
    out.rename(trash)
    staged.rename(out)
    shutil.rmtree(trash, ignore_errors=True)


@contextlib.contextmanager
def staged_run_folder(out: Path) -> Iterator[Path]:
    """Yield an empty staging folder beside ``out``; when the block ends without an error, the staging folder
    becomes ``out`` (replacing an earlier run there), otherwise it is removed.

    Raises :class:`OutputError` (before any simulation work) when ``out`` is not a run folder, cannot be written
    or another run is writing it."""
    check_run_folder(out)
    with _lock(out):
        clean_leftovers(out.parent, out.name)
        staged = out.with_name(f".{out.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            staged.mkdir()
        except OSError as exc:
            raise _cannot_write(out, exc) from None
        try:
            yield staged
            check_run_folder(out)  # nothing foreign appeared meanwhile
            _replace(staged, out)
        except OSError as exc:  # a full disk or a file size limit: what `out` held is kept
            if isinstance(exc, OutputError):
                raise
            raise _cannot_write(out, exc, kept=True) from None
        finally:
            shutil.rmtree(staged, ignore_errors=True)


def _atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_table(frame: pd.DataFrame, out_dir: Path, name: str, fmt: str) -> Path:
    path = out_dir / f"{name}.{'parquet' if fmt == 'parquet' else 'csv'}"
    if fmt == "parquet":
        _atomic(path, lambda p: _write_parquet(frame, p))
    else:
        _atomic(path, lambda p: frame.to_csv(p, index=False))
    return path


def write_run(model, daily: pd.DataFrame, out: Path, fmt: str) -> list[str]:
    """One run's tables (``daily`` is ``model.daily_table()``) and supply graph into ``out``; their file names.
    The one writer of a run's files, for ``tokenomy run`` and for each seed of an ensemble."""
    from tokenomy.networks import write_graph

    paths = [
        write_table(daily, out, "daily", fmt),
        write_table(model.hourly_table(), out, "hourly", fmt),
        write_table(model.agents_table(), out, "agents", fmt),
    ]
    write_graph(model.graph_with_flows(), out / "graph.graphml")
    return [p.name for p in paths] + ["graph.graphml"]


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """``frame.to_parquet(path, index=False)``, but dictionary-encoding only the categorical columns: the numbers
    rarely repeat, so a dictionary for them costs most of the writing time and makes the file larger, not smaller.
    The file reads back into the same frame."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    categorical = [str(c) for c, dtype in frame.dtypes.items() if isinstance(dtype, pd.CategoricalDtype)]
    pq.write_table(table, path, compression="snappy", use_dictionary=categorical)


def write_json(data: dict[str, Any], path: Path) -> None:
    _atomic(path, lambda p: p.write_text(json.dumps(data, indent=2, default=str) + "\n"))


def versions() -> dict[str, str]:
    import mesa
    import networkx
    import numpy
    import scipy

    from tokenomy.abm import __version__

    return {
        "tokenomy": __version__,
        "python": platform.python_version(),
        "mesa": mesa.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "networkx": networkx.__version__,
        "pandas": pd.__version__,
    }
