"""CalDAV (RFC 4791), CardDAV (RFC 6352) and WebDAV sync (RFC 6578) for the calendar
module: the protocol only. It parses requests (:mod:`.xml`, :mod:`.filters`), maps paths
to what the principal may reach (:mod:`.targets`), and answers through the calendar
service (collections and objects), which holds every rule; it stores nothing itself.
One file per method family: :mod:`.propfind`, :mod:`.collection` (MKCALENDAR, MKCOL,
PROPPATCH), :mod:`.resources` (GET, PUT, DELETE), :mod:`.reports`, :mod:`.freebusy`.
See docs/calendar-dav.md."""
