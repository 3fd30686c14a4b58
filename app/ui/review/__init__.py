"""The review tier's screens: the reviewer's queue, review mode (what changed since the last
review, threads on lines and task rows, the rubric and verdict) and the threads panel the author
sees too."""
