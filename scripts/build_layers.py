"""Regenerate layers/hamji_layers.gpkg: the same as `hamji layers` (see --help)."""

import sys

from geo.cli import main

if __name__ == "__main__":
    sys.exit(main(["layers", *sys.argv[1:]]))
