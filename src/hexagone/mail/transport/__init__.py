"""Mail transport: what moves and describes messages on the wire, below the service.

The SMTP client that delivers to remote peers (:mod:`.client`), the DNS lookups it and
the inbound checks use (:mod:`.dns`), bounce reports (:mod:`.dsn`) and header helpers
(:mod:`.headers`). It imports nothing from the service or the listeners, so both build
on it without a circle.
"""
