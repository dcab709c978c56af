"""The chat module (issue #19): a channel per space, the organisation's channels, direct
messages, threads, mentions, reactions, pins, read markers and presence, live over a
WebSocket shared by every process through the core's event bus."""
