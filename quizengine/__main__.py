"""`python -m quizengine …` runs the same command line as the `quizengine` script, from whichever checkout is
first on the path (the script always runs the installed one)."""

from quizengine.cli import main

main(prog_name="quizengine")
