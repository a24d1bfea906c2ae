"""``python -m tokenomy.abm.cli``: the same as the ``tokenomy`` command."""

import sys

from tokenomy.abm.cli import main

sys.exit(main())
