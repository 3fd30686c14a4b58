"""The review tier's screens: threads on lines and task rows, new threads, and the verdict."""
