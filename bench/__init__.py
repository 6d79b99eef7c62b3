"""accord's benchmarks: `python -m bench` (or `make bench`) generates the data once and prints the figures."""
