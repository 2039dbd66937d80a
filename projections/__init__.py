"""Read models that follow the event log; each can be rebuilt from it."""
