"""What a flow's protocol says about it: its family and the protections it brings by itself.

A protocol name is a fact about a flow that rules can rely on: ``https`` is encrypted and
integrity-protected and authenticates the server, whether or not the model says so; a ``uart``
link is a bus on a circuit board, where TLS makes no sense. A property written in the model always
wins over what the protocol implies (``encrypted: false`` on an ``https`` flow stays false).

Families group protocols by where they run and what answers their threats:

``ip``       networked transports and application protocols over IP (TLS answers them)
``radio``    short-range radio links below IP (BLE, NFC, Zigbee, LoRaWAN): pairing, link keys
``bus``      wired buses and serial links between chips or boards (CAN, UART, SPI, I2C, Modbus)
``debug``    debug and test access ports (JTAG, SWD)
``local``    inter-process communication and files on one host
``user``     a person working a user interface (touch screen, keypad, buttons)
``generic``  not said, or a name threatdelta does not know
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

Family = Literal["ip", "radio", "bus", "debug", "local", "user", "generic"]
FAMILIES: tuple[Family, ...] = ("ip", "radio", "bus", "debug", "local", "user", "generic")

IMPLIED_PROPERTIES: tuple[str, ...] = (
    "encrypted",
    "integrity_protected",
    "server_authenticated",
    "authenticated",
)
"""The flow properties a protocol can imply."""


@dataclass(frozen=True)
class Protocol:
    """One protocol name a native flow may use."""

    name: str
    """The name written in models (lower case)."""
    family: Family
    """Where it runs and what kind of countermeasures answer its threats."""
    summary: str
    """What it is, in a few words (for the reference page and warnings)."""
    secure: bool = False
    """Encrypted and integrity-protected, and the server (or peer) is authenticated."""
    mutual: bool = False
    """Both ends authenticate each other, so the sender is authenticated too."""

    @property
    def implies(self) -> Mapping[str, bool]:
        """Properties this protocol implies when the model does not set them."""
        if not self.secure:
            return MappingProxyType({})
        implied = {"encrypted": True, "integrity_protected": True, "server_authenticated": True}
        if self.mutual:
            implied["authenticated"] = True
        return MappingProxyType(implied)


_CATALOGUE: tuple[Protocol, ...] = (
    # networked, over IP
    Protocol("http", "ip", "HTTP without TLS"),
    Protocol("https", "ip", "HTTP over TLS", secure=True),
    Protocol("tls", "ip", "any protocol carried over TLS", secure=True),
    Protocol("mtls", "ip", "TLS with client certificates", secure=True, mutual=True),
    Protocol("dtls", "ip", "datagrams over DTLS", secure=True),
    Protocol("wss", "ip", "WebSocket over TLS", secure=True),
    Protocol("ws", "ip", "WebSocket without TLS"),
    Protocol("grpc", "ip", "gRPC (HTTP/2); say encrypted when it runs over TLS"),
    Protocol("tcp", "ip", "plain TCP"),
    Protocol("udp", "ip", "plain UDP"),
    Protocol("mqtt", "ip", "MQTT without TLS"),
    Protocol("mqtts", "ip", "MQTT over TLS", secure=True),
    Protocol("amqp", "ip", "AMQP without TLS"),
    Protocol("amqps", "ip", "AMQP over TLS", secure=True),
    Protocol("coap", "ip", "CoAP without DTLS"),
    Protocol("coaps", "ip", "CoAP over DTLS", secure=True),
    Protocol("ssh", "ip", "SSH (host key and user both authenticated)", secure=True, mutual=True),
    Protocol("sftp", "ip", "file transfer over SSH", secure=True, mutual=True),
    Protocol("ftp", "ip", "FTP without TLS"),
    Protocol("smb", "ip", "SMB file sharing; say encrypted when SMB 3 encryption is on"),
    Protocol("sql", "ip", "a database connection; say encrypted when it uses TLS"),
    Protocol("mysql", "ip", "MySQL client connection; say encrypted when it uses TLS"),
    Protocol("postgresql", "ip", "PostgreSQL client connection; say encrypted when it uses TLS"),
    Protocol("ldap", "ip", "LDAP without TLS"),
    Protocol("ldaps", "ip", "LDAP over TLS", secure=True),
    Protocol("hl7", "ip", "HL7 v2 messages over MLLP (no encryption of its own)"),
    Protocol("fhir", "ip", "HL7 FHIR REST API; say encrypted when it runs over HTTPS"),
    Protocol("dicom", "ip", "DICOM network transfer (no encryption of its own)"),
    Protocol("ethernet", "ip", "a wired network link"),
    Protocol("wifi", "ip", "a Wi-Fi network link"),
    Protocol("lte", "ip", "an LTE mobile network link"),
    Protocol("cellular", "ip", "a mobile network link (2G to 5G)"),
    # short-range radio below IP
    Protocol("ble", "radio", "Bluetooth Low Energy"),
    Protocol("bluetooth", "radio", "Bluetooth Classic"),
    Protocol("nfc", "radio", "near-field communication"),
    Protocol("zigbee", "radio", "Zigbee (IEEE 802.15.4)"),
    Protocol("lorawan", "radio", "LoRaWAN long-range radio"),
    Protocol("rf", "radio", "a proprietary radio link"),
    # wired buses and serial links
    Protocol("can", "bus", "CAN bus"),
    Protocol("lin", "bus", "LIN bus"),
    Protocol("uart", "bus", "UART serial link between chips"),
    Protocol("spi", "bus", "SPI bus between chips"),
    Protocol("i2c", "bus", "I2C bus between chips"),
    Protocol("serial", "bus", "a serial link (RS-232, RS-485)"),
    Protocol("modbus", "bus", "Modbus (RTU or TCP), no authentication of its own"),
    Protocol("usb", "bus", "USB"),
    # debug access
    Protocol("jtag", "debug", "JTAG debug and boundary-scan port"),
    Protocol("swd", "debug", "Arm Serial Wire Debug port"),
    # on one host
    Protocol("ipc", "local", "inter-process communication on one host"),
    Protocol("file", "local", "a file written by one process and read by another"),
    # people
    Protocol("ui", "user", "a person using a screen, keypad or buttons"),
    Protocol("generic", "generic", "not said"),
)

PROTOCOLS: Mapping[str, Protocol] = MappingProxyType({p.name: p for p in _CATALOGUE})
"""Every protocol threatdelta knows, by name, in catalogue order."""

PROTOCOL_NAMES: tuple[str, ...] = tuple(PROTOCOLS)
"""The known protocol names, in catalogue order."""

ON_BOARD_BUSES: frozenset[str] = frozenset({"can", "lin", "uart", "spi", "i2c", "serial"})
"""Buses that, between two parts of one device, run on the board or its internal wiring."""

FIELD_BUSES: frozenset[str] = frozenset({"can", "lin", "modbus"})
"""Buses whose frames carry no proof of who sent them."""


def protocol(name: str) -> Protocol:
    """The protocol called ``name`` (any case); an unknown name is a generic transport."""
    found = PROTOCOLS.get(name.strip().lower())
    if found is not None:
        return found
    return Protocol(name, "generic", "unknown protocol, treated as a generic transport")


def is_known(name: str) -> bool:
    """True when ``name`` is in the catalogue."""
    return name.strip().lower() in PROTOCOLS


def unknown_protocol_message(name: str) -> str:
    """The warning for a protocol name threatdelta does not know."""
    close = difflib.get_close_matches(name.strip().lower(), PROTOCOL_NAMES, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return (
        f"protocol '{name}' is not one threatdelta knows{hint}; the flow is treated as a generic "
        f"transport and nothing is implied about its protection (known protocols: "
        f"{', '.join(p for p in PROTOCOL_NAMES if p != 'generic')})"
    )
