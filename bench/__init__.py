"""`make bench`: figures and ratios measured side by side in one run (see docs/PERFORMANCE.md)."""
