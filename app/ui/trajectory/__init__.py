"""Multi-turn trajectories: the conversation editor and the step-by-step replay."""
