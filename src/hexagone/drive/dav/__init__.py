"""WebDAV (RFC 4918 class 1 and 2) over the drive's service face: ``/dav/files/<login
e-mail>/`` for one's own drive, ``/dav/spaces/<space id>/`` for a space's. Built on the
core's DAV kit (:mod:`hexagone.core.dav`); see docs/drive.md, "WebDAV"."""
