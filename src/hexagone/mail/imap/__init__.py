"""The IMAP4rev1/IMAP4rev2 server."""

from hexagone.core.modules import Server

SERVERS: list[Server] = []
