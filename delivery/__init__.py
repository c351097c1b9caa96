"""Delivery: the outbox of (alert version, subscription, channel) rows, the planner that fills it
in the publishing transaction, and the workers that send by web push and email."""
