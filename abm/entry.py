"""The ``tokenomy`` command's entry point, outside the ``abm.cli`` package on purpose: importing the command line
takes a moment, and Ctrl-C in that moment (or anywhere else) must end in "interrupted" and exit code 130, not in
a traceback of whatever module was loading; and an environment variable that breaks an import (``NUMBA_NUM_THREADS
=0``) must be found before that import."""

from __future__ import annotations

import signal
import sys

from tokenomy.abm.environment import environment_problem, ignore_file_size_signal, interrupts_held, notice_interrupts
from tokenomy.abm.errors import interrupted_line

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    """Run ``tokenomy ARGV`` (``sys.argv`` by default) and return its exit code."""
    try:
        notice_interrupts()  # an interrupt a library turns into an error of its own still ends "interrupted"
        ignore_file_size_signal()  # from the start: writing a module's bytecode cache could pass a limit too
        problem = environment_problem()  # before importing what a bad variable breaks (numba, matplotlib)
        if problem is not None:
            print(f"error: {problem}", file=sys.stderr)
            return EXIT_USAGE
        with interrupts_held():  # importing the command line takes a moment (numpy, numba, pandas)
            from tokenomy.abm.cli import main as cli_main

        code = cli_main(argv)
        _ended()
    except KeyboardInterrupt as exc:
        _ended()
        print(f"error: {interrupted_line(exc)}", file=sys.stderr)
        code = EXIT_INTERRUPTED
    return code


def _ended() -> None:
    """The command has ended and said how: from now on Ctrl-C is ignored, since one while the interpreter shuts down
    (its threads, its last flush) would kill it by the signal without a word, a finished run's 0 turned "killed"."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    sys.exit(main())
