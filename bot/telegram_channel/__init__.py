"""The Telegram channel, on python-telegram-bot's own types and Bot client."""

import os

# Opt in to PTB's coming behaviour (durations as timedelta) so its deprecation warning stays quiet;
# our code accepts both forms.
os.environ.setdefault("PTB_TIMEDELTA", "true")
