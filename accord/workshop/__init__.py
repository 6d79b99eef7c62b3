"""The metric alignment workshop and what keeps its outcome honest: pre-work, the facilitation kit,
recorded decisions, the rollout message, approvals and the governance findings in `check`."""
