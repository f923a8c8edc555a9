"""`python -m client`: the `ftclient` command line."""

import sys

from client.cli import main

sys.exit(main())
