"""The reviewer's screens: the queue of assigned submissions, what changed since the last review,
threads, comments and the verdict."""
