"""The protocol catalogue: families, implied protections, unknown names."""

from __future__ import annotations

from threatdelta.rules.protocols import (
    FAMILIES,
    ON_BOARD_BUSES,
    PROTOCOL_NAMES,
    PROTOCOLS,
    is_known,
    protocol,
    unknown_protocol_message,
)


def test_the_protocols_real_devices_use_are_known() -> None:
    wanted = """http https tls dtls mqtt mqtts wss sftp ssh uart spi i2c jtag swd nfc wifi lte
    cellular zigbee lorawan modbus hl7 fhir dicom grpc sql mysql postgresql ldap amqp smb can udp
    ble usb serial ipc file ui generic""".split()
    assert set(wanted) <= set(PROTOCOL_NAMES)
    assert all(p.family in FAMILIES for p in PROTOCOLS.values())
    assert ON_BOARD_BUSES <= {n for n, p in PROTOCOLS.items() if p.family == "bus"}


def test_secure_protocols_imply_encryption_integrity_and_server_authentication() -> None:
    for name in ("https", "mqtts", "dtls", "tls", "wss", "sftp", "ssh", "ldaps", "amqps"):
        implied = protocol(name).implies
        assert implied["encrypted"] is True, name
        assert implied["integrity_protected"] is True, name
        assert implied["server_authenticated"] is True, name
    # TLS authenticates the server only; SSH authenticates both ends.
    assert "authenticated" not in protocol("https").implies
    assert protocol("ssh").implies["authenticated"] is True
    assert protocol("mtls").implies["authenticated"] is True
    for name in ("http", "mqtt", "can", "uart", "ble", "ldap", "hl7", "dicom", "generic"):
        assert dict(protocol(name).implies) == {}, name


def test_names_are_matched_without_regard_to_case_and_unknown_ones_are_generic() -> None:
    assert protocol(" HTTPS ").name == "https"
    assert is_known("Zigbee")
    unknown = protocol("profinet")
    assert (unknown.name, unknown.family, dict(unknown.implies)) == ("profinet", "generic", {})
    assert not is_known("profinet")
    message = unknown_protocol_message("profinet")
    assert "generic transport" in message and "uart" in message and "generic)" not in message
    assert "(did you mean 'https'?)" in unknown_protocol_message("htps")
