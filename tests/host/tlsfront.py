"""TLS in front of a Unix-socket engine API, the way dockerd --tlsverify serves it:
the server presents a certificate for 127.0.0.1 signed by a test CA and requires a
client certificate from the same CA (made with trustme); connections are
forwarded byte for byte to the engine's socket."""

from __future__ import annotations

import select
import socket
import ssl
import threading
from pathlib import Path


def make_certs(d: Path) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, as
    ca.pem / server-cert.pem / server-key.pem / cert.pem / key.pem in `d`."""
    import trustme

    d.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(d / "ca.pem"))
    for who, cert_file, key_file in (("127.0.0.1", "server-cert.pem", "server-key.pem"),
                                     ("client.lashing.test", "cert.pem", "key.pem")):
        cert = ca.issue_cert(who)
        cert.private_key_pem.write_to_path(str(d / key_file))
        (d / cert_file).write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    return d


class TlsFront:
    """Listens on 127.0.0.1:<free port>; each TLS connection is piped to `socket_path`."""

    def __init__(self, certs: Path, socket_path: str) -> None:
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(certs /
                                                                               "ca.pem"))
        self.ctx.load_cert_chain(str(certs / "server-cert.pem"), str(certs / "server-key.pem"))
        self.ctx.verify_mode = ssl.CERT_REQUIRED
        self.target = socket_path
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, raw: socket.socket) -> None:
        try:
            raw.settimeout(10)
            client = self.ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        upstream = socket.socket(socket.AF_UNIX)
        try:
            upstream.connect(self.target)
            client.setblocking(False)
            self._pipe(client, upstream)
        except OSError:
            pass
        finally:
            upstream.close()
            client.close()

    def _pipe(self, client: ssl.SSLSocket, upstream: socket.socket) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([client, upstream], [], [], 0.2)
            if not ready and client.pending() == 0:
                continue
            if client in ready or client.pending():
                try:
                    data: bytes | None = client.recv(65536)
                except ssl.SSLWantReadError:  # a TLS record not complete yet
                    data = None
                if data == b"":
                    return
                if data:
                    upstream.sendall(data)
            if upstream in ready:
                data = upstream.recv(65536)
                if not data:
                    return
                client.setblocking(True)
                client.sendall(data)
                client.setblocking(False)

    def close(self) -> None:
        self._stop.set()
        self.listener.close()
        self._thread.join(5)
