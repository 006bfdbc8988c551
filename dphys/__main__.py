import sys

from dphys.cli import main

sys.exit(main())
