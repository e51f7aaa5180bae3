"""``python -m reactortrace.demo``: run the demo on the installed reactor."""

import sys

from reactortrace.demo.program import main

sys.exit(main())
