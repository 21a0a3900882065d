"""Batch builds: a whole target group in one command — spec, plan, cache, bounded concurrency, resume."""
