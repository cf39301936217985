"""``python -m xstyle.cli``: the ``xstyle`` command."""

import sys

from xstyle.cli import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
