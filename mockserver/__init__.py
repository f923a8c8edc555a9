"""Offline emulator of the OpenAI fine-tuning API."""

__version__ = "0.1.0"
