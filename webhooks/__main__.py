"""`python -m webhooks` runs the command line."""

from webhooks.cli import main

main()
