"""`python -m ivrc` runs the command line."""
import sys

from ivrc.cli import main

sys.exit(main())
