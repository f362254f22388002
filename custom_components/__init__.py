"""Custom integrations (the test harness imports them from this folder)."""
