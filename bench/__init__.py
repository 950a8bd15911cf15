"""A benchmark of whole self-referral conversations against the service as deployed.

Run it with `bench/run` (or `.venv/bin/python -m bench --help`); see bench/README.md.
"""
