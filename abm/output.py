"""Writing a run's folder so that a reader only ever sees one whole run or nothing, and nothing else is touched.

A run (or an ensemble of seeds: a ``seed-N`` folder per seed and a ``summary`` table) writes its tables, graph
and ``run.json`` into a hidden staging folder beside ``--out`` (``.NAME.tmp-PID-RANDOM``, marked as a run's
by a ``.tokenomy-staging`` file inside) and renames it into place once everything is written.  An earlier run
in ``--out`` is swapped out in one step (``renameat2`` with ``RENAME_EXCHANGE``) where the kernel offers it,
otherwise by two renames: the old folder to ``.NAME.trash-PID-RANDOM``, the new one into place.  Between
those two renames (microseconds) ``--out`` does not exist; it never holds a mix.

Nothing is deleted that a run did not make: ``run.json`` lists the files of its run (its manifest), and a folder
holding anything else -- a user's file, a sub-folder, a symbolic link, a hidden file, even one named like a run's
-- is refused, never replaced.  A lock file beside the folder (``.NAME.lock``, ``flock``; opened without following
a symbolic link, and only a regular file of this user) keeps a second run, or a sweep, from writing the same
folder at the same time, and the next run into a parent folder removes the staging and trash folders that
killed runs left there (a staging folder only with its mark, a trash folder only with its manifest).
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
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from tokenomy.abm.processes import pid_alive


class OutputError(OSError):
    """The output folder cannot be written."""


def prepare_out_dir(path: Path) -> Path:
    """Create the folder (and parents) and check it is writable, before any simulation work.  The probe is a
    file of a fresh random name (created exclusively), so no file of the user's is ever opened or removed."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".tokenomy-write-test-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"--out {path}: cannot write there ({exc.strerror or exc})") from None
    return path


_RUN_NAMES = r"(?:daily|hourly|agents|summary|decisions|predictions|rounds)\.(?:parquet|csv)|graph\.graphml|run\.json"
RUN_FILE = re.compile(_RUN_NAMES)  # what a run or an ensemble writes
TEMP_FILE = re.compile(rf"\.(?:{_RUN_NAMES})\.tmp-\d+-[0-9a-f]{{8}}")  # a file being written (see _atomic)
SEED_FOLDER = re.compile(r"seed-\d+")  # one seed's run in an ensemble's folder
STAGING_MARK = ".tokenomy-staging"  # in a staging folder from its creation until it is swapped into place
_LEFTOVER = re.compile(r"\.(?P<name>.+)\.(?P<kind>tmp|trash)-(?P<pid>\d+)-[0-9a-f]{8}")
STALE_AFTER_S = 6 * 3600.0
MAX_MANIFEST_BYTES = 10_000_000


def _manifest(folder: Path) -> set[str]:
    """The files a run's ``run.json`` in ``folder`` lists (relative paths, ``run.json`` included), each named as a
    run names its files; empty when there is no such ``run.json`` (missing, not a regular file, not a run's)."""
    from tokenomy.networks.files import open_regular

    path = folder / "run.json"
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return set()
        with open_regular(path, "run.json", OutputError) as fh:
            run = json.loads(fh.read(MAX_MANIFEST_BYTES + 1))
    except (OSError, ValueError, RecursionError):
        return set()
    files = run.get("files") if isinstance(run, dict) else None
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return set()
    listed = {"run.json"}
    for rel in files:
        parts = rel.split("/")
        if RUN_FILE.fullmatch(parts[-1]) and (len(parts) == 1 or (len(parts) == 2 and SEED_FOLDER.fullmatch(parts[0]))):
            listed.add(rel)
    return listed


def foreign_entries(folder: Path) -> list[str]:
    """What in ``folder`` its run did not write: every entry its ``run.json`` does not list as a regular file (or
    as the ``seed-N`` folder of listed files); symbolic links are never a run's."""
    listed = _manifest(folder)
    foreign = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False) and entry.name in listed:
                continue
            if entry.is_dir(follow_symlinks=False) and any(rel.startswith(f"{entry.name}/") for rel in listed):
                with os.scandir(entry.path) as inner:
                    foreign += [
                        f"{entry.name}/{e.name}"
                        for e in inner
                        if not (e.is_file(follow_symlinks=False) and f"{entry.name}/{e.name}" in listed)
                    ]
                continue
            foreign.append(entry.name)
    return sorted(foreign)


def check_out_folder(out: Path, foreign_of: Callable[[Path], list[str]], what: str) -> None:
    """Refuse an ``--out`` that is no folder name, a symbolic link, a file, or a folder holding entries
    ``foreign_of`` finds (files that ``what`` -- a run, a sweep -- did not write there)."""
    if out.name in ("", ".", ".."):
        raise OutputError(f"--out {str(out)!r}: give a folder name (a {what} replaces the whole folder)")
    if out.is_symlink():
        raise OutputError(f"--out {out}: is a symbolic link; give the folder it points to")
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out}: exists and is not a folder")
    if out.is_dir():
        try:
            foreign = foreign_of(out)
        except OSError as exc:
            raise OutputError(f"--out {out}: cannot read it ({exc.strerror or exc})") from None
        if foreign:
            raise OutputError(
                f"--out {out}: holds files no {what} wrote there ({', '.join(foreign[:3])}); refusing to replace it"
            )


def check_run_folder(out: Path) -> None:
    """Refuse an ``--out`` that cannot hold a run or holds something other than a Tokenomy run (or ensemble)."""
    check_out_folder(out, foreign_entries, "run")


def _ours(name: str) -> bool:
    # "graph.graphml.tmp": the graph's temporary file as versions before 2026-12 named it
    return bool(RUN_FILE.fullmatch(name) or TEMP_FILE.fullmatch(name) or name in (STAGING_MARK, "graph.graphml.tmp"))


def remove_run_files(folder: Path) -> bool:
    """Remove from ``folder`` (which a run made) the regular files named as a run names its files, the ``seed-N``
    folders of such files, then the folder itself if that emptied it; True when it is gone.  Anything else --
    a user's file that found its way in -- stays, and with it the folder.

    What marks the folder as a run's (its manifest ``run.json``, the staging mark) goes last, so a removal killed
    half way leaves a folder a later run still knows as a run's (:func:`_made_by_a_run`) and finishes."""
    last = ("run.json", STAGING_MARK)
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                if entry.is_file(follow_symlinks=False) and _ours(entry.name) and entry.name not in last:
                    os.unlink(entry.path)
                elif entry.is_dir(follow_symlinks=False) and SEED_FOLDER.fullmatch(entry.name):
                    remove_run_files(Path(entry.path))
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        if any(entry.name not in last for entry in entries):
            return False  # something not a run's is left: the folder keeps what says it is a run's
    for name in last:
        with contextlib.suppress(OSError):
            if stat.S_ISREG((folder / name).lstat().st_mode):
                os.unlink(folder / name)
    try:
        folder.rmdir()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


def _made_by_a_run(folder: Path, kind: str) -> bool:
    """A leftover folder a run of this user made: a staging folder still holding its mark, one (staging or trash)
    holding a whole run whose manifest lists everything in it, or an empty one (a run killed between making its
    staging folder and marking it, or at the end of removing one: there is nothing in it to lose)."""
    st = folder.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        return False
    mark = folder / STAGING_MARK
    if kind == "tmp" and mark.is_file() and not mark.is_symlink():
        return True
    if (folder / "run.json").is_file() and not foreign_entries(folder):
        return True
    with os.scandir(folder) as entries:
        return next(entries, None) is None


def clean_leftovers(parent: Path, own_name: str | None = None) -> list[Path]:
    """Remove the staging and trash folders killed runs left in ``parent``: every one of ``own_name`` (whose lock
    the caller holds), and others whose process is gone or that are older than :data:`STALE_AFTER_S`.  Only folders
    a run made (see :func:`_made_by_a_run`) are touched, and in them only a run's files."""
    removed = []
    for entry in parent.iterdir():
        m = _LEFTOVER.fullmatch(entry.name)
        if m is None:
            continue
        try:
            if not _made_by_a_run(entry, m["kind"]):
                continue
            old = time.time() - entry.lstat().st_mtime > STALE_AFTER_S
        except OSError:
            continue
        if (m["name"] == own_name or old or not pid_alive(int(m["pid"]))) and remove_run_files(entry):
            removed.append(entry)
    return removed


def _cannot_write(out: Path, exc: OSError, kept: bool = False) -> OutputError:
    """One line naming ``out`` and why; ``kept``: writing the run failed (naming the file, when the error does), and
    the earlier run is kept."""
    what = f"{out}/{Path(exc.filename).name}" if kept and exc.filename else str(out)
    reason = exc.strerror or " ".join(str(exc).split())[:160]
    return OutputError(f"--out {what}: cannot write there ({reason})" + ("; what was there is kept" if kept else ""))


_LOCK_FLAGS = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)


def _open_lock(out: Path, path: Path) -> tuple[int, bool]:
    """The lock file's descriptor, and whether this call created it; never through a symbolic link, and only a
    regular file of this user (another user's file, a FIFO or a device planted there is refused)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd, created = os.open(path, _LOCK_FLAGS | os.O_EXCL, 0o644), True
        except FileExistsError:
            fd, created = os.open(path, _LOCK_FLAGS, 0o644), False
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputError(f"{path}: the lock file is a symbolic link; refusing to follow it") from None
        raise _cannot_write(out, exc) from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
        os.close(fd)
        raise OutputError(f"{path}: the lock file is not a regular file of yours; refusing to use it")
    os.set_blocking(fd, True)
    return fd, created


@contextlib.contextmanager
def lock_folder(out: Path) -> Iterator[Callable[[], None]]:
    """Hold ``.NAME.lock`` beside ``out`` for the block: a second run or sweep into ``out`` meanwhile gets a
    one-line :class:`OutputError`.  Yields ``forget()``, which removes the lock file if this call created it (for
    a caller that leaves no trace); a locker that finds its file gone or replaced after locking lets go and
    reports the folder busy."""
    path = out.with_name(f".{out.name}.lock")
    fd, created = _open_lock(out, path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            st, now = os.fstat(fd), path.lstat()
            if (st.st_dev, st.st_ino) != (now.st_dev, now.st_ino):
                raise BlockingIOError
        except (BlockingIOError, FileNotFoundError):
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise OutputError(f"another tokenomy run is writing {out} (pid {holder})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)

        def forget() -> None:
            if created:
                with contextlib.suppress(OSError):
                    path.unlink()

        yield forget
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
    """Put the finished folder ``staged`` at ``out``, replacing an earlier run there (its files removed by the
    caller from ``staged`` once swapped, or here from the trash folder)."""
    if not out.exists():
        staged.rename(out)
        return
    if _exchange(staged, out):
        return  # ``staged`` now holds the earlier run
    trash = out.with_name(f".{out.name}.trash-{os.getpid()}-{secrets.token_hex(4)}")
    out.rename(trash)
    staged.rename(out)
    remove_run_files(trash)


@contextlib.contextmanager
def staged_run_folder(out: Path) -> Iterator[Path]:
    """Yield an empty staging folder beside ``out``; when the block ends without an error, the staging folder
    becomes ``out`` (replacing an earlier run there), otherwise it is removed.  The block must write a
    ``run.json`` whose ``files`` lists every file it wrote: that is what a later run may replace.

    Raises :class:`OutputError` (before any simulation work) when ``out`` is not a run folder, cannot be written
    or another run is writing it."""
    check_run_folder(out)
    with lock_folder(out):
        clean_leftovers(out.parent, out.name)
        staged = out.with_name(f".{out.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            staged.mkdir()
            os.close(os.open(staged / STAGING_MARK, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644))
        except OSError as exc:
            raise _cannot_write(out, exc) from None
        try:
            yield staged
            (staged / STAGING_MARK).unlink()
            unlisted = foreign_entries(staged)
            if unlisted:  # a writer that forgot its manifest: a later run could not replace the folder
                raise RuntimeError(f"run.json does not list {', '.join(unlisted[:3])}")
            check_run_folder(out)  # nothing foreign appeared meanwhile
            _replace(staged, out)
        except OSError as exc:  # a full disk or a file size limit: what `out` held is kept
            if isinstance(exc, OutputError):
                raise
            raise _cannot_write(out, exc, kept=True) from None
        finally:
            if staged.exists():
                remove_run_files(staged)


def exclusive_temp(path: Path) -> Path:
    """A new empty file beside ``path`` (``.NAME.tmp-PID-RANDOM``) that this call created: never an existing file,
    never through a symbolic link.  Write it, then rename it onto ``path``."""
    while True:
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666))
        except FileExistsError:
            continue
        return tmp


def _atomic(path: Path, write: Callable[[Path], Any]) -> None:
    tmp = exclusive_temp(path)
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_file(path: Path, data: bytes | str) -> None:
    """``data`` into ``path`` through a fresh temporary renamed into place: never written through a symbolic link
    (the rename replaces the link itself), and a reader sees the old file or the new one, whole."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    _atomic(path, lambda p: p.write_bytes(raw))


def _listed_in(manifest: Path) -> set[str]:
    """The file names an earlier report or comparison recorded in its manifest (``report.json``, ``compare.json``:
    a JSON object of paths), the manifest's own name included; empty when it is not such a manifest."""
    try:
        if not stat.S_ISREG(manifest.lstat().st_mode) or manifest.stat().st_size > MAX_MANIFEST_BYTES:
            return set()
        data = json.loads(manifest.read_bytes())
    except (OSError, ValueError, RecursionError):
        return set()
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return set()
    return {Path(v).name for v in data.values()} | {manifest.name}


def check_overwrite(out: Path, names: list[str], manifest: str) -> None:
    """Refuse, before any work, to write ``names`` into ``out`` over anything but the regular files an earlier
    run of the same command listed in ``out/manifest``: a user's file of the same name, or a link, stays."""
    if not out.is_dir() or out.is_symlink():
        return
    listed = _listed_in(out / manifest)
    for name in [*names, manifest]:
        try:
            mode = (out / name).lstat().st_mode
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise _cannot_write(out, exc) from None
        if not stat.S_ISREG(mode) or name not in listed:
            raise OutputError(f"--out {out}: holds {name}, which no earlier {manifest} lists; refusing to overwrite it")


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
