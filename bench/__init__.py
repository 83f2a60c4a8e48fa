"""Benchmarks: each script prints a baseline measured in the same run, Guichet's figure and
the ratio. Run one with ``.venv/bin/python -m bench.<name>``, all with ``make bench``."""
