"""Regenerate the reach table and every map from the layers and routes on disk.

The same as `hamji maps --reach` (see --help for --out, --maps, --offline).
"""

import sys

from geo.cli import main

if __name__ == "__main__":
    sys.exit(main(["maps", "--reach", *sys.argv[1:]]))
