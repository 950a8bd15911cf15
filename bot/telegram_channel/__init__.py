"""The Telegram channel, on python-telegram-bot's own types and Bot client."""
