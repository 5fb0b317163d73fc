"""The pure core: question types, papers, scoring and timing.

Standard library only (see tests/test_architecture.py): every rule of the game lives here so that it
can be tested exactly, with a fake clock and a seeded random generator, without an app or a database.
"""
