"""Signals for apps above places that keep a copy of a place path (registry persons' place_path)."""

from django.dispatch import Signal

# Sent inside the merge's transaction: every path under `old_prefix` now starts with `new_prefix`.
subtree_moved = Signal()
