"""Subscribers: web push and email sign-up, preferences and matching."""
