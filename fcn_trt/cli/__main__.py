"""``python -m fcn_trt.cli`` = ``fcn-trt``."""

import sys

from . import main

sys.exit(main())
