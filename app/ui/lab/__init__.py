"""The lab's side of the app: "My bounties" (post, edit and close bounties, see the submissions to
each with the platform's check results, assign reviewers by domain).

Every call goes straight to the platform with the lab's token (app.sync.lab, shared with
`gauntlet bounty|assign`), through the window's JobRunner, never on the GUI thread.
"""
