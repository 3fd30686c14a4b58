"""`gauntlet calibrate`: is an environment learnable? Sample a ladder of models on its tasks,
grade every sample with the package's own grader in the sandbox, and write a pack card."""
