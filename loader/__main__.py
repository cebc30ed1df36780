"""``python -m loader``: the same as ``hs-load``."""

from loader.cli import main

raise SystemExit(main())
