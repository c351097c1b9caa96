"""A browser push service on loopback that checks VAPID and decrypts, for tests and benchmarks."""
