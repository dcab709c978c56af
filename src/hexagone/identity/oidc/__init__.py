"""Hexagone's own OpenID Connect provider: one account opens every application an
organisation registers (authorization code flow with PKCE, refresh tokens, userinfo,
revocation, RP-initiated logout), and its access tokens open the JSON API.

The protocol work is authlib's. Authlib is synchronous and our database is not, so each
endpoint runs authlib inside ``AsyncSession.run_sync``: the sync-style ``Session`` the
callbacks query is driven by SQLAlchemy's greenlet bridge on the event loop, with no
thread and no second connection. Clients belong to one organisation and only ever sign
in that organisation's members. Secrets and tokens are stored as digests only.
"""
