"""Mail: inbound SMTP, submission and the outbound queue, IMAP, the webmail, migration."""
