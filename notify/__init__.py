"""Delivery of what the outbox holds: Telegram, email digests, routing, and the Telegram bot."""
