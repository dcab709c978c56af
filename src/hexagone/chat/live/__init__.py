"""The chat's live side: one process's WebSocket connections, the hub that hands them
the bus's events, and presence."""
