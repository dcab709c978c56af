"""Identity: organisations, users, groups, spaces, guests, login, MFA, the SSO provider
and the admin console. Other modules call :mod:`hexagone.identity.service` only."""
