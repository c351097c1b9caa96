"""Cross-cutting plumbing: configuration, database, clock, security headers, scheduler."""
