"""Inbound SMTP, submission and the outbound delivery queue."""

from hexagone.core.modules import Server

SERVERS: list[Server] = []
