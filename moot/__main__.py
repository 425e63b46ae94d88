"""`python -m moot` runs the command line."""

import sys

from moot.cli import main

sys.exit(main())
