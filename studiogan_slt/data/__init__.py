"""Package data (baseline tables) and the built-in digits data set."""
