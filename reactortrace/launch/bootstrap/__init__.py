"""The directory ``reactortrace run`` puts first on the program's PYTHONPATH."""
