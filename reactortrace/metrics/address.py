"""What ``--metrics HOST:PORT`` and ``--otlp URL`` may say, checked before the program starts."""

from __future__ import annotations

import importlib.util
import socket
from urllib.parse import urlsplit

from ..errors import UsageError

EXTRA = "pip install 'reactortrace[metrics]'"
#: The modules each option needs, from the ``metrics`` extra.
NEEDS = {
    "--metrics": ("prometheus_client",),
    "--otlp": ("opentelemetry.sdk", "opentelemetry.exporter.otlp.proto.http"),
}


def require(option: str) -> None:
    """Raise :class:`UsageError` naming the extra if ``option``'s libraries are missing."""
    for module in NEEDS[option]:
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            raise UsageError(f"{option} needs {module.split('.')[0]}, which is not installed: "
                             f"{EXTRA}")


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6, ``:PORT`` for every interface) as (host, port)."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit():
        raise UsageError(f"--metrics wants HOST:PORT (such as 127.0.0.1:9464), not {text!r}")
    port = int(port_text)
    if port > 65535:
        raise UsageError(f"--metrics: port {port} is out of range (0-65535)")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise UsageError(f"--metrics: write an IPv6 address in brackets ([{host}]:{port}), "
                         f"not {text!r}")
    return host or "0.0.0.0", port


def check_bindable(host: str, port: int) -> None:
    """Raise :class:`UsageError` if ``host:port`` cannot be listened on now (in use,
    not an address of this machine, a name that does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"--metrics: cannot resolve {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As the HTTP server will: a port in TIME_WAIT is free, one listened on is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise UsageError(f"--metrics: cannot listen on {host}:{port}: "
                             f"{exc.strerror or exc}") from None


def parse_url(text: str) -> str:
    """An OTLP/HTTP base URL (``http://collector:4318``), checked, without a trailing ``/``."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"--otlp: not a URL: {text!r} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--otlp wants an http:// or https:// URL such as "
                         f"http://localhost:4318, not {text!r}")
    if port == 0 or parts.query or parts.fragment:
        raise UsageError(f"--otlp: not a collector's base URL: {text!r}")
    return text.rstrip("/")
