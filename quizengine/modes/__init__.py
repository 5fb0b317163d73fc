"""Mode policies (self-test, timed exam, live contest): rules on top of the engine, no web or DB imports."""
