"""Where reports, statuses, approvals and releases live: GitHub, or files and stdout."""
