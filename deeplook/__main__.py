"""``python -m deeplook ...`` is the ``deeplook`` command."""

import sys

from deeplook.cli import main

sys.exit(main())
