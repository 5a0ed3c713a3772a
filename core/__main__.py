"""``python -m govern``."""

import sys

from govern.cli import main

sys.exit(main())
