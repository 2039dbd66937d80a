"""Who works here: the staff directory (kept current from the log), credentials (passwords and
API tokens) and the permission table the write path enforces."""
