"""``python -m pilotzone``: the same command line as the ``pilotzone`` script."""

import sys

from pilotzone.cli import main

if __name__ == "__main__":
    sys.exit(main())
