"""reactortrace._bootstrap."""
