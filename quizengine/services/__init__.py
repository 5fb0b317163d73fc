"""Use-cases: load rows, call the engine and the mode policies, save, commit, then publish."""
