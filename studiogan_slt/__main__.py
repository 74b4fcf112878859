"""`python -m studiogan_slt`: the same command as the `studiogan-slt` console script."""
from studiogan_slt.cli import main

main(prog_name="studiogan-slt")
