"""YAML question banks: format v1 schemas (format.py) and the all-or-nothing loader (loader.py)."""
