"""Running a sweep: run keys, one Parquet file per run, a journal and a runs table, resume, progress.

Layout of a sweep's output folder::

    sweep.json            the expanded design (points, seeds, parameters), for report and compare
    runs/KEY.parquet      the daily table of one run (written last, so its presence means "finished")
    hourly/KEY.parquet    optional tables, written before the daily one
    agents/KEY.parquet
    journal.jsonl         one line per finished or failed run (status, error, timings, SHA-256 of each file),
                          appended as they end
    runs.parquet          the runs table: point, seed, parameters, status, error text, timings

``KEY`` hashes (the resolved scenario -- its file merged over its bases --, overrides, seed, days, tables, model
version), so a re-run skips every run whose files are there and match their journal checksums, redoes one whose
file was damaged, and a changed scenario (or base) or model version runs afresh.  Files are written to a hidden
temporary name and renamed, so a SIGKILL leaves finished files intact and nothing half-written.  The folder is
locked like a run's (``.NAME.lock`` beside it), and a folder holding files a sweep does not write is refused
(see :mod:`abm.batch.sweepdir`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tokenomy.abm.batch import sweepdir
from tokenomy.abm.batch.executors import make_executor
from tokenomy.abm.batch.sweepdir import RUNS_DIR, read_journal, read_table, run_state, table_path
from tokenomy.abm.batch.sweepfile import Sweep, load_sweep

__all__ = ["RUNS_DIR", "SweepResult", "load_results", "plan", "read_journal", "run_key", "run_sweep", "table_path"]


def run_key(sweep: Sweep, overrides: list[str], seed: int) -> str:
    from tokenomy.abm import __version__

    ident = {
        "scenario": sweep.scenario_sha,
        "overrides": overrides,
        "seed": seed,
        "days": sweep.days,
        "tables": sweep.tables,
        "model_version": __version__,
    }
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:24]


def plan(sweep: Sweep) -> pd.DataFrame:
    """One row per (point, seed): the run key, the overrides and the parameter values."""
    rows = []
    for i, point in enumerate(sweep.points):
        overrides = sweep.overrides(point)
        for seed in sweep.seeds:
            rows.append(
                {
                    "point": i,
                    "seed": seed,
                    "run_key": run_key(sweep, overrides, seed),
                    "overrides": json.dumps(overrides),
                    **point,
                }
            )
    return pd.DataFrame(rows)


def _write_atomic(path: Path, data: bytes) -> None:
    from tokenomy.abm.output import exclusive_temp

    tmp = exclusive_temp(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _write_frame_atomic(frame: pd.DataFrame, path: Path) -> None:
    from tokenomy.abm.output import exclusive_temp

    tmp = exclusive_temp(path)
    try:
        frame.to_parquet(tmp, index=False)
        tmp.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


JOURNAL_FIELDS = (
    "run_key",
    "status",
    "error",
    "traceback",
    "started",
    "seconds",
    "build_s",
    "simulate_s",
    "serialise_s",
    "write_s",
    "pid",
    "host",
    "rss_mb",
    "peak_rss_mb",
    "session",
    "executor",
    "sha256",
)


def run_states(out: Path, keys, tables: list[str], journal: dict[str, dict]) -> dict[str, str | None]:
    """Per distinct run key: "done" (files there and matching the journal's checksums), "damaged" or None."""
    return {k: run_state(out, k, tables, journal.get(k)) for k in dict.fromkeys(keys)}


def runs_table(planned: pd.DataFrame, journal: dict[str, dict], states: dict[str, str | None]) -> pd.DataFrame:
    """The runs table from the plan, the journal and the state of each run's files (see :func:`run_states`):
    done, damaged (a file that does not match its checksum), failed or pending."""
    rows = []
    for rec in planned.to_dict("records"):
        key = rec["run_key"]
        j = journal.get(key, {})
        status = states.get(key) or ("failed" if j.get("status") == "failed" else "pending")
        row = {**rec, "status": status, "error": j.get("error", "") if status == "failed" else ""}
        for f in JOURNAL_FIELDS[3:-1]:
            row[f] = j.get(f) if status in ("done", "failed") else None
        rows.append(row)
    frame = pd.DataFrame(rows)
    if "started" in frame:
        frame["started"] = pd.to_datetime(frame["started"], unit="s", utc=True)
    return frame


class Progress:
    """A tqdm bar over a sweep's distinct runs on stderr (``12/32 runs, done 11 failed 1``, rate and eta), shown only
    on a terminal; runs finished before this call count as done from the start."""

    def __init__(self, total: int, skipped: int, enabled: bool, stream=None):
        from tqdm import tqdm

        stream = stream or sys.stderr
        self.skipped = skipped
        self.done = self.failed = 0
        self.bar = tqdm(
            total=total,
            initial=skipped,
            unit="run",
            desc="runs",
            file=stream,
            dynamic_ncols=True,
            disable=not (enabled and stream.isatty()),
        )
        self._postfix()

    def _postfix(self) -> None:
        self.bar.set_postfix_str(f"done {self.done + self.skipped}, failed {self.failed}", refresh=False)

    def update(self, status: str | None = None) -> None:
        if status == "done":
            self.done += 1
        elif status == "failed":
            self.failed += 1
        self._postfix()
        self.bar.update(1 if status in ("done", "failed") else 0)

    def close(self) -> None:
        self.bar.refresh()
        self.bar.close()


@dataclass
class SweepResult:
    """What a sweep left in its folder, as DataFrames."""

    out: Path
    sweep: dict
    runs: pd.DataFrame
    ran: int = 0  # runs executed by this call (0 when loaded)
    skipped: int = 0  # runs already finished before this call

    @property
    def failed(self) -> int:
        return int((self.runs["status"] == "failed").sum())

    def check_whole(self) -> None:
        """Raise a one-line :class:`UsageError` naming a run file that does not match its journal checksum."""
        from tokenomy.abm.errors import UsageError

        damaged = self.runs.loc[self.runs["status"] == "damaged", "run_key"]
        if not len(damaged):
            return
        key = damaged.iloc[0]
        sums = read_journal(self.out).get(key, {}).get("sha256")
        sums = sums if isinstance(sums, dict) else {}
        path = table_path(self.out, key)
        for table in self.sweep["tables"]:  # the first file that does not match (daily when none is recorded)
            candidate = table_path(self.out, key, table)
            if sums and sweepdir.file_sha256(candidate) != sums.get(table):
                path = candidate
                break
        raise UsageError(f"{path}: damaged (does not match its checksum in journal.jsonl); run the sweep again")

    @property
    def daily(self) -> pd.DataFrame:
        return self.table("daily")

    def table(self, name: str = "daily") -> pd.DataFrame:
        """One table of every finished run, tagged with point, seed, run key and parameter values."""
        params = [p["key"] for p in self.sweep["parameters"]]
        frames = []
        for rec in self.runs[self.runs["status"] == "done"].to_dict("records"):
            path = table_path(self.out, rec["run_key"], name)
            if not path.exists():
                continue
            frame = read_table(path)
            tags = {
                "point": rec["point"],
                "seed": rec["seed"],
                "run_key": rec["run_key"],
                **{k: rec[k] for k in params},
            }
            frames.append(frame.assign(**tags)[[*tags, *frame.columns]])
        if not frames:
            return pd.DataFrame()
        return pd.concat(frames, ignore_index=True)


def load_results(out: str | Path) -> SweepResult:
    """Read a sweep's folder (finished or not) back as a :class:`SweepResult`."""
    out = Path(out)
    info = sweepdir.read_sweep_info(out)
    planned = pd.DataFrame(info["plan"])
    journal = read_journal(out)
    states = run_states(out, planned["run_key"] if len(planned) else [], info["tables"], journal)
    return SweepResult(out=out, sweep=info, runs=runs_table(planned, journal, states))


def _record(res: dict, session: str, executor: str) -> dict:
    rec = {k: res.get(k) for k in JOURNAL_FIELDS}
    rec.update(session=session, executor=executor)
    return rec


def check_sweep_name(name: str) -> str:
    """A sweep's name names its folder under ``out/sweeps``: one plain folder name, nothing that leads elsewhere."""
    from tokenomy.abm.errors import UsageError

    if name in ("", ".", "..") or any(c in name for c in "/\\\0") or Path(name).is_absolute():
        raise UsageError(f"sweep name {name!r}: give a plain folder name (no '/', '\\' or '..')")
    return name


def _first_missing(out: Path) -> Path | None:
    """The outermost folder of ``out`` that does not exist yet (what this call would create), or None."""
    missing = None
    for folder in (out, *out.parents):
        if folder.exists():
            break
        missing = folder
    return missing


def _prepare(out: Path, sweep: Sweep) -> tuple[dict, pd.DataFrame]:
    """The output folder with its table folders (this sweep's stale temporaries removed) and ``sweep.json``."""
    from tokenomy.abm.output import prepare_out_dir, versions

    prepare_out_dir(out)
    for table in sweep.tables:
        table_path(out, "x", table).parent.mkdir(exist_ok=True)
    sweepdir.remove_stale_temps(out)  # left by a kill mid-write
    planned = plan(sweep)
    info = {**sweep.describe(), "plan": planned.to_dict("records"), "versions": versions()}
    _write_atomic(out / "sweep.json", (json.dumps(info, indent=1, default=str) + "\n").encode())
    return info, planned


def run_sweep(
    sweep: str | Path | dict | Sweep,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    cluster: str | None = None,
    progress: bool = False,
    max_tasks_per_child: int | None = None,
    executor=None,
    log=None,
) -> SweepResult:
    """Run (or resume) a sweep and return its results.

    ``sweep`` is a sweep file, a dict shaped like one, or a loaded :class:`Sweep`.  ``workers=0`` runs in
    this process; ``scheduler="tcp://host:port"`` or ``cluster="local"`` use Dask.  Finished runs in ``out``
    are skipped; failed and damaged ones are run again.  ``executor`` is an already entered executor from
    :func:`abm.batch.executors.make_executor` to reuse across sweeps (it is left open).  ``out`` is locked for
    the sweep (a second sweep or run into it meanwhile is refused) and must hold nothing but a sweep's files.
    A sweep that cannot start leaves nothing behind that it made.
    """
    from tokenomy.abm.output import lock_folder

    if not isinstance(sweep, Sweep):
        sweep = load_sweep(sweep)
    check_sweep_name(sweep.name)
    out = Path(out) if out is not None else Path("out") / "sweeps" / sweep.name
    sweepdir.check_sweep_folder(out)  # before anything is made
    created = _first_missing(out)
    with lock_folder(out) as forget_lock:
        try:
            sweepdir.check_sweep_folder(out)  # nothing foreign appeared before the lock
            if executor is None:  # fails early on a missing extra
                context = make_executor(workers, scheduler, cluster, max_tasks_per_child)
            else:
                context = contextlib.nullcontext(executor)
            with context as ex:
                info, planned = _prepare(out, sweep)
                return _execute(sweep, out, info, planned, ex, progress, log)
        except BaseException:
            journal = out / "journal.jsonl"
            if created is not None and (not journal.exists() or journal.stat().st_size == 0):
                sweepdir.remove_new_sweep(out, created, forget_lock)  # nothing ran: no trace of this call
            raise


def _execute(sweep: Sweep, out: Path, info: dict, planned: pd.DataFrame, ex, progress: bool, log) -> SweepResult:
    from tokenomy.abm import __version__

    journal_records = read_journal(out)
    states = run_states(out, planned["run_key"], sweep.tables, journal_records)
    finished = {k for k, state in states.items() if state == "done"}
    todo_keys = [k for k in states if k not in finished]
    first = planned.drop_duplicates("run_key").set_index("run_key")
    tasks = (
        {
            "run_key": k,
            "scenario": sweep.scenario,
            "scenario_data": sweep.scenario_data,
            "overrides": json.loads(first.loc[k, "overrides"]),
            "seed": int(first.loc[k, "seed"]),
            "days": sweep.days,
            "tables": sweep.tables,
            "model_version": __version__,
        }
        for k in todo_keys
    )
    session = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    n_unique = len(first)
    damaged = sum(state == "damaged" for state in states.values())
    if log:
        log(
            f"{sweep.name}: {len(planned)} runs ({len(sweep.points)} points x {len(sweep.seeds)} seeds, "
            f"{n_unique} distinct), {len(finished)} already finished"
            + (f", {damaged} damaged (run again)" if damaged else "")
            + f"; {sweep.days} days each"
        )
    bar = Progress(n_unique, len(finished), progress)
    ran = 0
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    journal = os.fdopen(os.open(out / "journal.jsonl", flags, 0o666), "a", encoding="utf-8")  # held for the sweep
    last_flush = time.perf_counter()
    try:
        for res in ex.run(tasks):
            t0 = time.perf_counter()
            if res["status"] == "done":
                for name in reversed(sweep.tables):  # daily last: its file marks the run finished
                    _write_atomic(table_path(out, res["run_key"], name), res["tables"][name])
            res["write_s"] = time.perf_counter() - t0
            record = _record(res, session, ex.name)
            journal.write(json.dumps(record, default=str) + "\n")
            journal.flush()
            journal_records[res["run_key"]] = record
            states[res["run_key"]] = "done" if res["status"] == "done" else None
            ran += 1
            bar.update(res["status"])
            if time.perf_counter() - last_flush > 30:
                _write_frame_atomic(runs_table(planned, journal_records, states), out / "runs.parquet")
                last_flush = time.perf_counter()
    finally:
        journal.close()
        bar.close()
        runs = runs_table(planned, journal_records, states)
        _write_frame_atomic(runs, out / "runs.parquet")
    return SweepResult(out=out, sweep=info, runs=runs, ran=ran, skipped=len(finished))


def summary_line(result: SweepResult) -> str:
    runs = result.runs
    done = int((runs["status"] == "done").sum())
    failed = result.failed
    line = (
        f"{result.sweep['name']}: {done}/{len(runs)} runs done ({result.ran} ran now, "
        f"{result.skipped} already finished), {failed} failed; results in {result.out}/"
    )
    secs = runs["simulate_s"].dropna() if "simulate_s" in runs else pd.Series(dtype=float)
    if len(secs):
        line += f"; {secs.mean():.2f} s per run"
    return line


def first_failures(result: SweepResult, n: int = 3) -> list[str]:
    bad = result.runs[result.runs["status"] == "failed"]
    return [f"  point {r.point} seed {r.seed}: {r.error}" for r in bad.head(n).itertuples()]
