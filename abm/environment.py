"""The environment variables Tokenomy reads, and those its libraries read at import and would crash on, checked
before any command runs: a bad value ends in one line naming the variable and what it allows, not in a
traceback deep inside an import (``NUMBA_NUM_THREADS=0``, ``MPLBACKEND=bad``) or in a server that fails later
(``TOKENOMY_VIZ_CULL_TIMEOUT=garbage``).  This module imports nothing of ours, and a library only to let it
judge its own variables when one is set (Matplotlib for ``MPLBACKEND``, numba for ``NUMBA_*``, tqdm for
``TQDM_*``): the ``tokenomy`` entry point runs it before the imports those variables break.

And signals: past ``ulimit -f`` a write fails (EFBIG) and is reported, instead of SIGXFSZ killing the process
without a word; Ctrl-C is held back while the command line is imported (:func:`interrupts_held`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import signal
import stat
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from urllib.parse import urlsplit

CULL_TIMEOUT_ENV = "TOKENOMY_VIZ_CULL_TIMEOUT"  # read by tokenomy.viz.server
SESSION_LOG_ENV = "TOKENOMY_VIZ_SESSION_LOG"
CLASSROOM_TIMING_ENV = "TOKENOMY_CLASSROOM_TIMING"  # read by tokenomy.viz.classroom.hub (the load benchmark's lines)
# set by `tokenomy classroom` for its server's workers (and the first two by `tokenomy viz`, which keeps a user's own
# TOKENOMY_PUBLIC_URL): checked like any other when a user sets them
CLASSROOM_ENV = "TOKENOMY_CLASSROOM"  # read by tokenomy.viz.classroom: "1", "/" is the join page
PUBLIC_URL_ENV = "TOKENOMY_PUBLIC_URL"  # read by tokenomy.viz.classroom.teacher: the join link and its QR code
VIZ_WORKERS_ENV = "TOKENOMY_VIZ_WORKERS"  # read by tokenomy.viz.classroom.hub: one process, or games found by file
GAMES_DIR_ENV = "TOKENOMY_GAMES_DIR"  # read by tokenomy.viz.classroom.hub: where "Run a class" makes games' files
DEFAULT_GAMES_DIR = "tokenomy-games"  # ... when it is not set (and `tokenomy classroom --games-dir`'s default)
CLASSROOM_GAME_ENV = "TOKENOMY_CLASSROOM_GAME"  # read by tokenomy.viz.classroom.hub: the game `classroom` serves
REACTON_FAST_ENV = "REACTON_FAST"  # reacton's faster renderer: `tokenomy viz` sets 1 unless a user set 0 (or 1)
MAX_VIZ_WORKERS = 8  # server worker processes: `--workers` of `tokenomy viz` and `tokenomy classroom`
MAX_PATH_CHARS = 1024
# the join link (URL + "/join?code=" + the code) must fit a QR code (error level M: 2,331 bytes), in ASCII
MAX_URL_CHARS = 2000
_WORKERS = re.compile(r"[1-9][0-9]{0,2}")
MAX_NUMBA_THREADS = 1024
_DURATION = re.compile(r"(?P<number>\d{1,7}(?:\.\d{1,3})?)(?P<unit>[smhd]?)")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_CULL_S, MAX_CULL_S = 1.0, 7 * 86400.0


def duration_seconds(text: str) -> float | None:
    """Seconds in a duration such as ``30``, ``30s``, ``2m``, ``1h`` or ``1d`` (Solara's form), else None."""
    match = _DURATION.fullmatch(text.strip())
    return None if match is None else float(match["number"]) * _SECONDS[match["unit"]]


def _cull_timeout(value: str) -> str | None:
    seconds = duration_seconds(value)
    if seconds is None:
        return "expected a duration such as 30s, 2m, 1h or 1d"
    if not MIN_CULL_S <= seconds <= MAX_CULL_S:
        return "must be from 1 second to 7 days"
    return None


def _numba_threads(value: str) -> str | None:
    text = value.strip()
    if not text.isdigit() or len(text) > 6 or not 1 <= int(text) <= MAX_NUMBA_THREADS:
        return f"expected a whole number of threads from 1 to {MAX_NUMBA_THREADS}"
    return None


def _numba_opt(value: str) -> str | None:
    return None if value.strip() in ("0", "1", "2", "3", "max") else "expected 0, 1, 2, 3 or max"


def _switch(value: str) -> str | None:
    return None if value in ("", "0", "1") else "expected 1 (on) or 0 (off)"


def _viz_workers(value: str) -> str | None:
    """As ``--workers``; written plainly (no sign, space or leading 0), since the hub asks whether it is "1"."""
    if _WORKERS.fullmatch(value) is None or int(value) > MAX_VIZ_WORKERS:
        return f"expected a whole number of server processes from 1 to {MAX_VIZ_WORKERS}"
    return None


def _public_url(value: str) -> str | None:
    """The server's address as students reach it: the join link is this with ``/join?code=CODE`` added, shown on
    the teacher's page as a link and a QR code, so a bare http(s) address a browser opens as it is written."""
    expected = "expected the address students reach, http://host[:port][/path] or https://..."
    if not value:
        return expected
    if len(value) > MAX_URL_CHARS:
        return f"at most {MAX_URL_CHARS:,} characters (the join link goes into a QR code), got {len(value):,}"
    if any(not "!" <= c <= "~" for c in value) or "\\" in value:
        return "no spaces, control characters, backslashes or non-ASCII letters (write a host name in punycode)"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        return f"not a readable URL ({' '.join(str(exc).split())[:80]})"
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
        return expected
    if "@" in parts.netloc:
        return "no user or password in the address (every student would see it)"
    if "?" in value or "#" in value:
        return "no ?query or #fragment: the join link's /join?code=... is added to the address"
    return None


def _path_problem(value: str, what: str) -> str | None:
    if "\0" in value:
        return "a path cannot contain a NUL character"
    if len(value) > MAX_PATH_CHARS:
        return f"a path of at most {MAX_PATH_CHARS:,} characters, got {len(value):,}"
    if not value.strip():
        return f"expected {what}, got a blank path"
    return None


def _games_dir(value: str) -> str | None:
    """A folder for new games' files (made when the first game is, its parents too); if it is there, a folder
    itself, not a link to one.  Empty: the default folder, :data:`DEFAULT_GAMES_DIR`."""
    return _path_of_kind(value, "a folder", stat.S_ISDIR, missing=None)


def _game_file(value: str) -> str | None:
    """The game's file ``tokenomy classroom`` serves: a regular file, not a link to one (the game's store opens
    no link).  Empty: none, the workers look in the games folder only."""
    return _path_of_kind(value, "a regular file", stat.S_ISREG, missing="no such file")


def _path_of_kind(value: str, what: str, is_kind: Callable[[int], bool], missing: str | None) -> str | None:
    """``value`` a bounded path to ``what`` (a folder or a regular file), which where it is there is one, and not a
    link (none is followed); ``missing`` is the problem when nothing is there (None: it will be made)."""
    if not value:
        return None
    problem = _path_problem(value, what)
    if problem is not None:
        return problem
    folder = is_kind is stat.S_ISDIR
    try:
        # "link/" would be the folder the link points to; a file's path ends in its name
        mode = os.lstat(value.rstrip("/") or "/").st_mode if folder else os.lstat(value).st_mode
    except FileNotFoundError:
        return missing
    except OSError as exc:
        return f"cannot be used as {what} ({exc.strerror})"
    if stat.S_ISLNK(mode):
        return f"is a symbolic link: give {what} itself (a link is not followed)"
    return None if is_kind(mode) else f"is not {what}"


def _mpl_backend(value: str) -> str | None:
    """Matplotlib checks its backend when it is imported, so the check imports it (only when the variable is set)."""
    if not value:
        return None  # Matplotlib's default
    if value.startswith("module://"):
        module = value.removeprefix("module://")
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        return None if found else f"no module '{module}' to load as a Matplotlib backend"
    problem = "not a Matplotlib backend (e.g. agg, or module://NAME)"
    try:
        from matplotlib.rcsetup import validate_backend  # a first import of Matplotlib checks MPLBACKEND itself
    except ValueError:  # the failed import left parts of Matplotlib behind: gone, so that a later import is whole
        for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
            del sys.modules[name]
        return problem
    except ImportError:
        return None  # no Matplotlib: nothing reads the variable
    try:
        validate_backend(value)
    except ValueError:
        return problem
    return None


CHECKS: dict[str, Callable[[str], str | None]] = {
    CULL_TIMEOUT_ENV: _cull_timeout,
    SESSION_LOG_ENV: _switch,
    CLASSROOM_TIMING_ENV: _switch,
    CLASSROOM_ENV: _switch,
    REACTON_FAST_ENV: _switch,  # (reacton reads anything but "1" as off)
    PUBLIC_URL_ENV: _public_url,
    VIZ_WORKERS_ENV: _viz_workers,
    GAMES_DIR_ENV: _games_dir,
    CLASSROOM_GAME_ENV: _game_file,
    "NUMBA_NUM_THREADS": _numba_threads,
    "NUMBA_OPT": _numba_opt,
    "MPLBACKEND": _mpl_backend,
}


# libraries that read every variable of a prefix when first imported: numba warns (a traceback in the warning's
# text) about one it cannot parse, tqdm fails to import
_NUMBA_UNREADABLE = re.compile(
    r"Environment variable '(?P<name>\w+)' is defined but its associated value '(?P<value>.*?)'"
)


def _first_import_problem(module: str, prefix: str, environ: Mapping[str, str]) -> str | None:
    """Import ``module`` (not imported yet, with a ``prefix`` variable set) and say which variable it could not use."""
    names = sorted(name for name in environ if name.startswith(prefix))
    if not names or module in sys.modules:
        return None  # nothing set, or read already when it was imported
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            importlib.import_module(module)
        except ImportError:
            return None
        except Exception as exc:  # a value it cannot use; the half-imported module goes, so a later import is whole
            for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
                del sys.modules[name]
            shown = ", ".join(f"{n}={environ[n][:40]!r}" for n in names[:3])
            return f"environment variable {shown}: {module} cannot use it ({' '.join(str(exc).split())[:100]})"
    for warning in caught:
        match = _NUMBA_UNREADABLE.search(str(warning.message))
        if match is not None:
            return f"environment variable {match['name']}={match['value'][:40]!r}: {module} cannot read it"
    return None


def environment_problem(environ: Mapping[str, str] = os.environ) -> str | None:
    """One line on the first variable of :data:`CHECKS` that is set to a value it does not allow, or on a ``NUMBA_``
    or ``TQDM_`` variable that numba or tqdm cannot read when first imported (read from ``os.environ``, as they do),
    or None.  (A value is shown as Python writes it in a string: control characters escaped.)"""
    for name, check in CHECKS.items():
        value = environ.get(name)
        if value is None:
            continue
        problem = check(value)
        if problem is not None:
            return f"environment variable {name}={value[:40]!r}: {problem}"
    return _first_import_problem("numba", "NUMBA_", environ) or _first_import_problem("tqdm", "TQDM_", environ)


def ignore_file_size_signal() -> None:
    """Past a file size limit (``ulimit -f``) a write then fails with EFBIG, which the command reports in one line
    naming the file, instead of the process being killed by SIGXFSZ without a word."""
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


_INTERRUPTED = [False]


def notice_interrupts() -> None:
    """From now on Ctrl-C raises KeyboardInterrupt as before and is remembered: numba, pandas or pyarrow code
    interrupted in the middle may turn the KeyboardInterrupt into an error of its own (an ImportError while a
    C extension loads, a SystemError in a kernel), and the command line then still ends in "interrupted", exit code
    130 (:func:`was_interrupted`), not in that error's traceback.  Only from the main thread."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _remember_interrupt)


def _remember_interrupt(signum, frame) -> None:
    _INTERRUPTED[0] = True
    raise KeyboardInterrupt


def was_interrupted() -> bool:
    """Whether Ctrl-C arrived since :func:`notice_interrupts`."""
    return _INTERRUPTED[0]


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C back for the block, and let it arrive at its end: a KeyboardInterrupt raised inside a C
    extension's import (numpy's, loading ``datetime``) comes out as an ImportError and a traceback; held back, it
    is an ordinary KeyboardInterrupt once the import is done."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
