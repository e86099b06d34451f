"""Command-line tools of gr-uoisc; each module has ``main(argv=None)``."""
