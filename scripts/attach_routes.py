"""Regenerate layers/hamji_routes.gpkg from the layers on disk: the same as `hamji routes` (see --help)."""

import sys

from geo.cli import main

if __name__ == "__main__":
    sys.exit(main(["routes", *sys.argv[1:]]))
