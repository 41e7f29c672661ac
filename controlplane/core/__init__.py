"""Service plumbing shared by every route: settings, database, errors, ids, security, metrics."""
