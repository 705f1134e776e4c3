"""A real TLS server on a loopback address, serving one certificate chain (Python's ssl in a thread).

``weak=True`` lowers the security level of this test server only (``@SECLEVEL=0``): OpenSSL 3
refuses to load an RSA-1024 key or a SHA-1 certificate at the default level, and the point of
those tests is a server that serves them anyway."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path
from types import TracebackType


class TLSServer:
    def __init__(self, chain: Path, key: Path, *, host: str = "127.0.0.1", weak: bool = False) -> None:
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if weak:
            self.ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        self.ctx.load_cert_chain(str(chain), str(key))
        self.host = host
        self.sock = socket.create_server((host, 0))
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"tls-{host}:{self.port}", daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            with self.ctx.wrap_socket(conn, server_side=True) as tls:
                data = tls.recv(4096)
                if data.startswith(b"GET "):
                    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        except (OSError, ssl.SSLError):
            pass  # clients that only handshake, or refuse our certificate, end here
        finally:
            conn.close()

    def start(self) -> TLSServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.sock.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> TLSServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
