"""Mail: inbound SMTP, submission and the outbound queue, IMAP, the webmail, migration."""

# Mail's rule in the core policy (what a user may do with a mailbox, mail/policy.py) is
# registered as soon as any part of mail is imported: the services judge with it, so a
# process that calls them without loading the module's descriptor (a test, a script) still
# finds it. The service cannot import it itself: the rule judges service.mailboxes.Access,
# and that would be an import circle (.importlinter).
from hexagone.mail import policy as _policy  # noqa: F401
