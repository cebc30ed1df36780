"""Benchmarks: speed and cost of each part, as ratios against baselines of the same run.

The machines this runs on are shared and noisy, so no figure stands alone: each is
a median of repeated runs, reported next to a floor (or an old way of doing the
same job) measured minutes apart on the same machine. ``python -m bench`` runs them
all; ``python -m bench lake_write`` one. ``BENCH_SCALE`` shrinks every size.
Nothing here is a test: ``make test`` holds no timing assertion.
"""
