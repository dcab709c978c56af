"""The WebDAV kit every DAV endpoint builds on (RFC 4918): the XML of requests and
multistatus answers (:mod:`.xml`), what request bodies ask for (:mod:`.bodies`), the
headers that steer a method (:mod:`.headers`: Depth, Destination, Overwrite, Timeout and
the ``If`` header), error answers naming a precondition (:mod:`.errors`), and signing a
client in with HTTP Basic (:mod:`.auth`). Calendar's CalDAV/CardDAV and drive's WebDAV
use it; it knows neither."""
