"""Identity pages: sign-in, second factor, password reset, invitations, home, account
and the admin console. Thin: each handler parses the form and calls the service."""
