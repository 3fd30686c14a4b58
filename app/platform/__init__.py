"""The reference Gauntlet platform: bounties, submissions, server-side re-checks, reviews,
annotations and the change feed the desktop app syncs from. See docs/api.md and docs/server.md."""
