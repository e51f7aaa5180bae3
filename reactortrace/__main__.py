"""``python -m reactortrace``: the same as the ``reactortrace`` command."""

import sys

from .cli import main

sys.exit(main())
