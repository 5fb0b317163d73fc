"""Which address members' phones should open: the LAN addresses, the join link's base, the app's own origins.

A secretary starts the app on a laptop and opens the projector page on that laptop, usually as
``http://127.0.0.1:5000``. A QR code built from that host sends every phone to *itself*. So the join link
is chosen, in order, from: the configured ``PUBLIC_URL`` (behind a proxy only the operator knows the
address); the host the projector page was opened with, unless it is loopback; the machine's first LAN
address with the page's port. Only when none of those exists does the page keep the loopback address,
with a warning saying how to fix it.

No Flask here: callers pass the configuration and the request's URL in. Addresses are found without network
traffic (a UDP ``connect`` sends nothing) and without any outside service.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit

#: Shown on the projector and host pages when phones cannot reach the address the link would use.
LOOPBACK_WARNING = (
    "当前地址只能在本机访问，手机扫码打不开。请用 python run.py 启动（默认在局域网地址上提供服务），"
    "并用启动时显示的局域网地址打开大屏，或设置 PUBLIC_URL。"
)

#: Bind addresses meaning "every interface".
_ALL_INTERFACES = {"", "0.0.0.0", "::"}
_DEFAULT_PORTS = {"http": 80, "https": 443}
#: Linux ioctl returning an interface's IPv4 address (struct ifreq).
_SIOCGIFADDR = 0x8915


def is_loopback_host(host: str) -> bool:
    """True for names and addresses only this machine can reach (localhost, 127.0.0.0/8, ::1)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _usable(address: str) -> bool:
    """A unicast IPv4 address another device on the network could reach (not loopback or link-local)."""
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_unspecified)


def _route_address() -> str | None:
    """The address the default route leaves from: ``connect`` on UDP picks it and sends nothing."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.254.254.254", 9))
            return probe.getsockname()[0]
        except OSError:  # no route at all (a Wi-Fi without internet access has none): the other sources remain
            return None


def _interface_addresses() -> list[str]:
    """Every interface's IPv4 address on Linux (a room's Wi-Fi router often has no default route)."""
    if not sys.platform.startswith("linux"):
        return []
    import fcntl

    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _index, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[:15])
            with contextlib.suppress(OSError):  # an interface without an IPv4 address
                found.append(socket.inet_ntoa(fcntl.ioctl(probe.fileno(), _SIOCGIFADDR, request)[20:24]))
    return found


def _hostname_addresses() -> list[str]:
    """The addresses the machine's own name resolves to (how Windows and macOS list their interfaces)."""
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET, socket.SOCK_STREAM)
    except OSError:
        return []
    return [str(info[4][0]) for info in infos]


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other devices may reach, the default route's first, no duplicates."""
    candidates = [_route_address(), *_interface_addresses(), *_hostname_addresses()]
    return list(dict.fromkeys(address for address in candidates if address and _usable(address)))


def reachable_lan(bind_host: str | None) -> list[str]:
    """The LAN addresses a server bound to ``bind_host`` answers on (None: unknown, assume every interface)."""
    if bind_host is None or bind_host in _ALL_INTERFACES:
        return lan_addresses()
    if is_loopback_host(bind_host):
        return []
    return [bind_host]


def normalize_public_url(value: str | None) -> str | None:
    """``PUBLIC_URL`` without a trailing slash, or None when unset; refuse anything but an http(s) URL."""
    value = (value or "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.query or parts.fragment:
        example = "https://quiz.example.org"
        raise ValueError(f"PUBLIC_URL 应是 http:// 或 https:// 开头的网址（如 {example}），而不是 {value!r}")
    return value.rstrip("/")


def _url_host(host: str) -> str:
    """A host as written in a URL (IPv6 addresses in brackets)."""
    return f"[{host}]" if ":" in host else host


def _with_host(url: str, host: str) -> str:
    """``url`` (scheme, port, path) on another host."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{_url_host(host)}{port}{parts.path}".rstrip("/")


def join_base_url(public_url: str | None, request_url_root: str, lan: Sequence[str]) -> tuple[str, str | None]:
    """The base (no trailing slash) of every join link, and a warning when phones cannot reach it.

    ``request_url_root`` is the URL the page was opened with up to the app's root (``request.url_root``),
    ``lan`` the addresses the server answers on (``reachable_lan``).
    """
    if public_url:
        return public_url.rstrip("/"), None
    opened = request_url_root.rstrip("/")
    if not is_loopback_host(urlsplit(opened).hostname or ""):
        return opened, None
    if lan:
        return _with_host(opened, lan[0]), None
    return opened, LOOPBACK_WARNING


def origin_of(url: str) -> str:
    """A URL's origin as browsers send it in ``Origin``: scheme://host[:port], default port left out."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    host, port = _url_host(host), parts.port
    return f"{scheme}://{host}" if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{scheme}://{host}:{port}"


def own_origins(public_url: str | None, request_host_url: str) -> set[str]:
    """The origins the app itself is served from, for the Socket.IO Origin check.

    The request's own host (what the browser connected to) and, behind a proxy, ``PUBLIC_URL``. A page on
    another origin (another port of the same host included) is not one of them.
    """
    origins = {origin_of(request_host_url)}
    if public_url:
        origins.add(origin_of(public_url))
    return origins


def serving_urls(bind_host: str, port: int, public_url: str | None, lan: Sequence[str]) -> list[tuple[str, str]]:
    """What the start-up banner lists, main address first: (label, url) pairs."""
    urls: list[tuple[str, str]] = []
    if public_url:
        urls.append(("对外地址", f"{public_url}/"))
    urls += [("局域网", f"http://{_url_host(address)}:{port}/") for address in lan]
    if bind_host in _ALL_INTERFACES:
        urls.append(("本机", f"http://127.0.0.1:{port}/"))
    elif is_loopback_host(bind_host):
        urls.append(("本机", f"http://{_url_host(bind_host)}:{port}/"))
    return urls


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxy_networks(text: str) -> tuple[Network, ...]:
    """'127.0.0.1, 10.0.0.0/8, ::1' → networks; a bad entry raises ValueError naming it."""
    networks = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"代理地址 {item!r} 无效（应为 IP 地址或网段，如 127.0.0.1 或 10.0.0.0/8）") from None
    return tuple(networks)
