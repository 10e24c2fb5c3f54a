"""``python -m cuspide_bridge`` = ``cuspide-bridge``."""

import sys

from cuspide_bridge.cli import main

sys.exit(main())
