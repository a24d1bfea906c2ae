"""A sweep's folder as a thing of its own: what may be in it, reading it back safely, checking its run files.

A sweep writes only the names listed here; a folder holding anything else (a user's file, a symbolic link, a
hidden file, even one named like a temporary of ours) is refused, and nothing in it is ever deleted but this
sweep's own temporaries.  Everything read back -- ``sweep.json``, the journal, the run files -- goes through
:func:`networks.files.open_regular` (a FIFO or a device is refused at once) and is checked before use, so a
damaged folder gives one line naming the file, never a traceback.  A run's files are trusted only when their
SHA-256 matches the one its journal record holds.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from tokenomy.abm.errors import UsageError
from tokenomy.networks.files import open_regular

RUNS_DIR = "runs"
TABLE_DIRS = {"daily": RUNS_DIR, "hourly": "hourly", "agents": "agents"}
TOP_FILES = ("sweep.json", "journal.jsonl", "runs.parquet")
KEY = re.compile(r"[0-9a-f]{24}")
RUN_FILE = re.compile(r"[0-9a-f]{24}\.parquet")
# a temporary of ours (see abm.output.exclusive_temp; before it, without the random part)
_SWEEP_TEMP = re.compile(r"\.(?:sweep\.json|runs\.parquet|[0-9a-f]{24}\.parquet)\.tmp-\d+(?:-[0-9a-f]{8})?")
MAX_SWEEP_JSON_BYTES = 500_000_000  # the plan of 100,000 runs with 100 parameters
MAX_JOURNAL_LINE_BYTES = 1_000_000


def table_path(out: Path, key: str, table: str = "daily") -> Path:
    return out / TABLE_DIRS[table] / f"{key}.parquet"


def _is_temp(entry: os.DirEntry) -> bool:
    """A temporary a killed sweep of this user left (a regular file of ours, named as :func:`exclusive_temp`)."""
    if not (_SWEEP_TEMP.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)):
        return False
    return entry.stat(follow_symlinks=False).st_uid == os.geteuid()


def foreign_entries(out: Path) -> list[str]:
    """What in ``out`` a sweep did not write (relative paths); ``report/`` is a report's and not looked into."""
    foreign = []
    with os.scandir(out) as entries:
        for entry in entries:
            if entry.name in TOP_FILES and entry.is_file(follow_symlinks=False):
                continue
            if entry.name == "report" and entry.is_dir(follow_symlinks=False):
                continue
            if entry.name in TABLE_DIRS.values() and entry.is_dir(follow_symlinks=False):
                with os.scandir(entry.path) as inner:
                    foreign += [
                        f"{entry.name}/{e.name}"
                        for e in inner
                        if not ((RUN_FILE.fullmatch(e.name) and e.is_file(follow_symlinks=False)) or _is_temp(e))
                    ]
                continue
            if not _is_temp(entry):
                foreign.append(entry.name)
    return sorted(foreign)


def check_sweep_folder(out: Path) -> None:
    """Refuse an ``--out`` that is a symbolic link, a file, or a folder holding files a sweep does not write."""
    from tokenomy.abm.output import check_out_folder

    check_out_folder(out, foreign_entries, "sweep")


def remove_stale_temps(out: Path) -> None:
    """Remove the temporaries a killed sweep left in ``out`` (the caller holds the folder's lock)."""
    for folder in (out, *(out / d for d in TABLE_DIRS.values())):
        with contextlib.suppress(FileNotFoundError), os.scandir(folder) as entries:
            for entry in entries:
                if _is_temp(entry):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)


def remove_new_sweep(out: Path, created: Path, forget_lock: Callable[[], None]) -> None:
    """Undo a sweep that made ``created`` (``out`` or a parent of it) and ran nothing: remove its own files and
    folders, the lock file it made, then each folder up to ``created`` that this left empty (a folder another
    process wrote in meanwhile stays)."""
    for name in TOP_FILES:
        path = out / name
        with contextlib.suppress(OSError):
            if stat.S_ISREG(path.lstat().st_mode):
                path.unlink()
    remove_stale_temps(out)
    for folder in TABLE_DIRS.values():
        with contextlib.suppress(OSError):
            (out / folder).rmdir()
    forget_lock()
    for folder in (out, *out.parents):
        try:
            folder.rmdir()
        except FileNotFoundError:
            pass
        except OSError:
            return
        if folder == created:
            return


# reading back


def _damaged(path: Path, why: str) -> UsageError:
    return UsageError(f"{path}: damaged ({why}); run the sweep again to redo it")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _list_of(v: Any, ok: Callable[[Any], bool]) -> bool:
    return isinstance(v, list) and all(ok(x) for x in v)


def _check_info(info: Any, path: Path) -> dict:
    """``info`` when it has every field report and compare use, each of the right type; else one line."""
    from tokenomy.abm.batch.sweepfile import DESIGNS, TABLES

    def need(ok: bool, what: str) -> None:
        if not ok:
            raise UsageError(f"{path}: not a sweep's description ({what}); run the sweep again")

    need(isinstance(info, dict), "not a JSON object")
    for key in ("name", "scenario", "design"):
        need(isinstance(info.get(key), str), f"'{key}' is not text")
    need(info["design"] in DESIGNS, "unknown 'design'")
    need(_is_int(info.get("days")), "'days' is not a whole number")
    need(_list_of(info.get("seeds"), _is_int), "'seeds' is not a list of whole numbers")
    need(_list_of(info.get("set"), lambda s: isinstance(s, str)), "'set' is not a list of text")
    tables = info.get("tables")
    need(_list_of(tables, lambda t: t in TABLES) and "daily" in tables, "'tables' is not a list of tables")
    need(isinstance(info.get("versions"), dict) and isinstance(info["versions"].get("tokenomy"), str), "'versions'")
    params = info.get("parameters")
    need(_list_of(params, lambda p: isinstance(p, dict) and isinstance(p.get("key"), str)), "'parameters'")
    need(_list_of(info.get("points"), lambda p: isinstance(p, dict)), "'points' is not a list of objects")
    keys = [p["key"] for p in params]

    def row_ok(r: Any) -> bool:
        return (
            isinstance(r, dict)
            and _is_int(r.get("point"))
            and _is_int(r.get("seed"))
            and isinstance(r.get("run_key"), str)
            and KEY.fullmatch(r["run_key"]) is not None
            and isinstance(r.get("overrides"), str)
            and all(k in r for k in keys)
        )

    need(_list_of(info.get("plan"), row_ok), "'plan' is not a list of runs")
    if info["design"] in ("morris", "sobol"):
        need(all(_is_num(p.get("min")) and _is_num(p.get("max")) for p in params), "parameter ranges")
        need(all(isinstance(p.get("log"), bool) for p in params), "parameter 'log'")
        need(_is_int(info.get("levels")) and _is_int(info.get("design_seed")), "'levels' or 'design_seed'")
        need(info["design"] == "sobol" or _list_of(info.get("unit_design"), lambda r: _list_of(r, _is_num)), "design")
    return info


def read_sweep_info(out: Path) -> dict:
    """The checked contents of ``out/sweep.json``."""
    path = out / "sweep.json"
    if not path.exists() and not path.is_symlink():
        raise UsageError(f"{out}: not a sweep folder (no sweep.json; run `tokenomy sweep` first)")
    with open_regular(path, "sweep description (sweep.json)", UsageError) as fh:
        data = fh.read(MAX_SWEEP_JSON_BYTES + 1)
    if len(data) > MAX_SWEEP_JSON_BYTES:
        raise UsageError(f"{path}: larger than {MAX_SWEEP_JSON_BYTES // 1_000_000} MB; not a sweep's description")
    try:
        info = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise UsageError(f"{path}: not a sweep's description ({type(exc).__name__}); run the sweep again") from None
    return _check_info(info, path)


def read_journal(out: Path) -> dict[str, dict]:
    """The latest journal record per run key.  A line that is not a record -- torn by a kill, not UTF-8, not JSON
    -- is skipped: its run counts as not finished, and a resumed sweep runs it again."""
    records: dict[str, dict] = {}
    path = out / "journal.jsonl"
    if not path.exists():
        return records
    with open_regular(path, "sweep journal (journal.jsonl)", UsageError) as fh:
        for raw in fh:
            try:
                rec = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                continue
            if isinstance(rec, dict) and isinstance(rec.get("run_key"), str):
                records[rec["run_key"]] = rec
    return records


def file_sha256(path: Path) -> str | None:
    """The SHA-256 of a regular file, or None when it is missing or not a regular file."""
    try:
        with open_regular(path, "run file", OSError) as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


def _looks_whole(path: Path) -> bool:
    """A Parquet file that starts and ends with its magic bytes (for journal records from before checksums)."""
    try:
        with open_regular(path, "run file", OSError) as fh:
            head = fh.read(4)
            fh.seek(-4, os.SEEK_END)
            return head == b"PAR1" and fh.read(4) == b"PAR1"
    except OSError:
        return False


def run_state(out: Path, key: str, tables: list[str], record: dict | None) -> str | None:
    """``"done"`` when every table file of the run is there and matches its journal record's checksum,
    ``"damaged"`` when one is there but does not, None when the run has not finished."""
    paths = {t: table_path(out, key, t) for t in tables}
    present = [t for t, p in paths.items() if p.exists() or p.is_symlink()]
    if not present:
        return None
    if record is None or record.get("status") != "done":
        return None  # no record (a kill between the file and its record): run it again
    sums = record.get("sha256")
    if isinstance(sums, dict) and sums:
        ok = all(isinstance(sums.get(t), str) and file_sha256(p) == sums[t] for t, p in paths.items())
    else:
        ok = all(_looks_whole(p) for p in paths.values())
    return "done" if ok else "damaged"


def read_table(path: Path) -> pd.DataFrame:
    """A run's Parquet table; a file that is not one gives one line naming it."""
    import pyarrow as pa

    with open_regular(path, "run file", UsageError) as fh:
        try:
            return pd.read_parquet(fh)
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise _damaged(path, f"not a Parquet table: {type(exc).__name__}") from None
