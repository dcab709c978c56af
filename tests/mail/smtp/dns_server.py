"""A small authoritative DNS server on loopback (UDP and TCP), serving the records the
tests publish: DKIM keys, SPF and DMARC policies of made-up domains. Every other name
is NXDOMAIN, so no test depends on the Internet."""

from __future__ import annotations

import socketserver
import struct
import threading

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


class Zone:
    """Records by (name, type); tests add to it while the server runs."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], list[str]] = {}
        self.lock = threading.Lock()

    def add(self, name: str, rdtype: str, value: str) -> None:
        if rdtype == "TXT":  # one string is at most 255 bytes: split long values
            value = " ".join(f'"{value[i : i + 250]}"' for i in range(0, len(value), 250))
        with self.lock:
            self.records.setdefault((name.lower().rstrip("."), rdtype), []).append(value)

    def answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        with self.lock:
            values = list(self.records.get((name, rdtype), []))
            exists = any(key[0] == name for key in self.records)
        if values:
            response.answer.append(dns.rrset.from_text_list(question.name, 60, dns.rdataclass.IN, rdtype, values))
        elif not exists:
            response.set_rcode(dns.rcode.NXDOMAIN)
        return response


class _Udp(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        query = dns.message.from_wire(data)
        wire = self.server.zone.answer(query).to_wire()  # type: ignore[attr-defined]
        if len(wire) > 512 and query.edns < 0:
            truncated = dns.message.make_response(query)
            truncated.flags |= dns.flags.TC
            wire = truncated.to_wire()
        sock.sendto(wire, self.client_address)


class _Tcp(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        length = struct.unpack("!H", self.request.recv(2))[0]
        data = b""
        while len(data) < length:
            data += self.request.recv(length - len(data))
        wire = self.server.zone.answer(dns.message.from_wire(data)).to_wire()  # type: ignore[attr-defined]
        self.request.sendall(struct.pack("!H", len(wire)) + wire)


class _UdpServer(socketserver.ThreadingUDPServer):
    daemon_threads = True


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def start(zone: Zone) -> int:
    """Serve ``zone`` on a free loopback port (UDP and TCP) in daemon threads."""
    while True:
        udp = _UdpServer(("127.0.0.1", 0), _Udp)
        port = udp.server_address[1]
        try:
            tcp = _TcpServer(("127.0.0.1", port), _Tcp)
            break
        except OSError:
            udp.server_close()
    for server in (udp, tcp):
        server.zone = zone  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True, name=f"test-dns-{port}").start()
    return port
