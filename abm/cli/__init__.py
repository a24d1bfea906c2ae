"""The ``tokenomy`` command line: all argument parsing lives in this package.

Each subcommand module exposes ``register(subparsers) -> {name: handler}``, where a handler takes the
parsed arguments and returns an exit code.  Every problem with the user's input (scenario, key, value,
file, flag) ends in one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys

from tokenomy.abm.cli import classroom, lesson, run, sweep, viz
from tokenomy.abm.cli.argtypes import with_choice_hint
from tokenomy.abm.cli.streams import StdoutError, detach_stdout, guarded_stdout
from tokenomy.abm.collector import command_owns_process
from tokenomy.abm.environment import environment_problem, ignore_file_size_signal, was_interrupted
from tokenomy.abm.errors import UsageError, interrupted_line, one_line

EXIT_USAGE = 2
EXIT_WRITE = 1  # the input was fine; writing the output failed (a full disk), and what was there is kept
COMMAND_MODULES = (run, sweep, lesson, viz, classroom)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line instead of usage + message
        raise UsageError(f"{self.prog}: {with_choice_hint(message)}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tokenomy", description="Agent-based market simulator of the AI industry chain.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    parser.handlers = {}
    for module in COMMAND_MODULES:
        parser.handlers.update(module.register(sub))
    return parser


# (module, class) of the errors that mean bad input, besides UsageError and FileNotFoundError
INPUT_ERRORS = (
    ("tokenomy.abm.scenarios.schema", "ScenarioError"),
    ("tokenomy.networks.topologies", "TopologyError"),
    ("tokenomy.abm.output", "OutputError"),
)


def input_errors() -> tuple[type[BaseException], ...]:
    """The classes of error that mean bad input. Only a loaded module can have raised its error, so the modules
    not loaded yet are left out rather than imported: ``tokenomy --help`` loads none of the model's libraries."""
    loaded = (sys.modules.get(module) for module, _ in INPUT_ERRORS)
    found = [getattr(m, name) for m, (_, name) in zip(loaded, INPUT_ERRORS, strict=True) if m is not None]
    return (UsageError, FileNotFoundError, *found)


def main(argv: list[str] | None = None) -> int:
    """Run ``tokenomy ARGV`` and return its exit code.  With no ``argv`` the command line is the process's own
    (``sys.argv``: the console script, ``python -m tokenomy.abm.cli``), and the process ends with the command."""
    if argv is None:
        command_owns_process()  # (see abm.collector)
    args = None
    try:
        problem = environment_problem()  # the entry point checked before the imports; here for in-process callers
        if problem is not None:
            raise UsageError(problem)
        ignore_file_size_signal()
        with guarded_stdout():  # a full disk under standard output is told, not a traceback
            parser = build_parser()
            args = parser.parse_args(argv)
            handler = parser.handlers[args.command]
            return handler(args)
    except KeyboardInterrupt as exc:
        print(f"error: {interrupted_line(exc)}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (e.g. `tokenomy lesson cobweb | head -2`): not an error
        detach_stdout()
        return 0
    except StdoutError as exc:
        detach_stdout()
        print(f"error: standard output: cannot write ({one_line(exc.strerror)})", file=sys.stderr)
        return EXIT_WRITE
    except Exception as exc:
        if was_interrupted():  # a library turned Ctrl-C into an error of its own
            print("error: interrupted", file=sys.stderr)
            return 130
        if isinstance(exc, input_errors()):  # bad input (a missing file included): one line, exit 2
            print(f"error: {one_line(str(exc))}", file=sys.stderr)
            return EXIT_USAGE
        if isinstance(exc, OSError):  # a full disk or a file size limit, writing something other than a run's folder
            out = getattr(args, "out", None)
            where = one_line(exc.filename or (f"--out {out}" if out is not None else "a file"))
            print(f"error: {where}: {one_line(exc.strerror or str(exc))}", file=sys.stderr)
            return EXIT_WRITE
        raise
