"""``python -m tokenomy.abm.cli``: the same as the ``tokenomy`` command."""

import sys

from tokenomy.abm.cli import main
from tokenomy.abm.collector import command_owns_process

command_owns_process()  # this process is the command's and ends with it (see abm.collector)
sys.exit(main())
