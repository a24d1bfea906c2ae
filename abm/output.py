"""Writing a run's tables, graph and ``run.json`` so that a crash never leaves a half-written file."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import pandas as pd


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

    return {"tokenomy": __version__, "python": platform.python_version(), "mesa": mesa.__version__,
            "numpy": numpy.__version__, "scipy": scipy.__version__, "networkx": networkx.__version__,
            "pandas": pd.__version__}
