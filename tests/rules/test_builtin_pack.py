"""The built-in STRIDE pack: its content, its reference page, and what it finds on small models."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.helpers import boundary, element, flow, model

from threatdelta.engine import enumerate_threats
from threatdelta.model.model import Element, Flow, Model
from threatdelta.rules.packfile import builtin_pack, render_reference
from threatdelta.threat import Threat

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
PACK = builtin_pack()
KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def threats(elements: list[Element], flows: list[Flow] = [], bounds: list[str] = []) -> set[str]:  # noqa: B006
    """Keys of the built-in pack's threats on a small model (boundaries given as ids)."""
    return {t.key for t in enumerate_threats(_model(elements, flows, bounds), PACK)}


def _model(elements: list[Element], flows: list[Flow], bounds: list[str]) -> Model:
    return model(elements, flows, [boundary(b) for b in bounds])


def rules_on(keys: set[str], subject: str) -> set[str]:
    """Rule ids of the keys about ``subject`` (an element id, a flow id or 'a>f>b')."""
    return {k.split("@", 1)[0] for k in keys if k.split("@", 1)[1] == subject}


def letters_on(model_: Model, subject: str) -> list[str]:
    """STRIDE letters of the element threats on ``subject``, sorted, with repeats."""
    found: list[Threat] = [t for t in enumerate_threats(model_, PACK) if t.element == subject]
    return sorted(t.stride for t in found)


# ------------------------------------------------------------------ the pack itself


def test_pack_loads_with_sorted_unique_kebab_case_ids() -> None:
    ids = [r.id for r in PACK.rules]
    assert PACK.name == "threatdelta STRIDE"
    assert ids == sorted(ids)
    assert len(ids) == len(set(ids))
    assert all(KEBAB.match(i) for i in ids), [i for i in ids if not KEBAB.match(i)]
    assert len(PACK.digest) == 64
    assert builtin_pack() is PACK


def test_every_rule_has_what_a_reviewer_needs() -> None:
    for rule in PACK.rules:
        assert rule.countermeasures, rule.id
        assert "{" in rule.title, rule.id  # names what it is about
        sentences = len(re.findall(r"[.!?](?:\s|$)", rule.description))
        assert 2 <= sentences <= 4, (rule.id, sentences)
        assert rule.category, rule.id


def test_every_countermeasure_resolves_and_every_catalogue_entry_is_used() -> None:
    used = {c for r in PACK.rules for c in r.countermeasures}
    assert used <= set(PACK.countermeasures)
    assert set(PACK.countermeasures) == used
    for cm_id, cm in PACK.countermeasures.items():
        assert KEBAB.match(cm_id) and cm.name and cm.description, cm_id


def test_catalogue_holds_the_countermeasures_device_makers_ask_for() -> None:
    required = {
        "x509-authentication",
        "digital-signature",
        "secure-boot",
        "log-mac",
        "tamper-resistance",
        "aes-256-at-rest",
        "tls-in-transit",
        "input-sanitisation",
        "least-privilege",
        "audit-trail",
        "rate-limiting",
        "watchdog-safe-mode",
        "message-authentication",
        "debug-port-lock",
        "secure-element",
        "anti-replay",
    }
    assert required <= set(PACK.countermeasures)


def test_reference_page_is_up_to_date() -> None:
    expected = render_reference(PACK)
    assert DOCS.is_file(), "run: python -m threatdelta.rules.packfile --doc > docs/rules.md"
    assert DOCS.read_text(encoding="utf-8") == expected, (
        "docs/rules.md is stale; run: python -m threatdelta.rules.packfile --doc > docs/rules.md"
    )


def test_reference_page_lists_every_rule_with_its_expressions() -> None:
    page = render_reference(PACK)
    for rule in PACK.rules:
        assert f"## {rule.id}\n" in page
        assert f"- Include: `{rule.include_text}`" in page
        if rule.exclude_text:
            assert f"- Exclude: `{rule.exclude_text}`" in page
        for number in rule.cwe:
            assert f"CWE-{number}]" in page


# ------------------------------------------------------------------ STRIDE per element


def test_external_entity_gets_spoofing_and_repudiation() -> None:
    m = _model([element("nurse", "external-entity", "person")], [], [])
    assert letters_on(m, "nurse") == ["R", "S"]


def test_authenticated_external_entity_is_not_spoofable() -> None:
    keys = threats([element("nurse", "external-entity", authenticated=True)])
    assert rules_on(keys, "nurse") == {"entity-repudiation"}


def test_process_gets_all_six() -> None:
    m = _model([element("app", "process")], [], [])
    assert letters_on(m, "app") == sorted("STRIDE")
    web = _model([element("app", "process", "web-service")], [], [])
    assert set(letters_on(web, "app")) == set("STRIDE")
    assert {"web-broken-access-control", "vulnerable-components"} <= rules_on(
        threats([element("app", "process", "web-service")]), "app"
    )


def test_data_store_gets_tampering_disclosure_and_denial_of_service() -> None:
    m = _model([element("db", "data-store", "database")], [], [])
    assert letters_on(m, "db") == ["D", "I", "T"]


def test_log_store_also_gets_repudiation_once_per_letter() -> None:
    for log in (
        element("log", "data-store", stores_logs=True),
        element("log", "data-store", "log"),
    ):
        m = _model([log], [], [])
        assert set(letters_on(m, "log")) == {"D", "I", "R", "T"}
        assert {"log-tampering", "log-sensitive-data"} <= rules_on(threats([log]), "log")
        assert "store-tampering" not in rules_on(threats([log]), "log")


def test_flow_gets_tampering_disclosure_and_denial_of_service() -> None:
    keys = threats([element("a"), element("b")], [flow("f", "a", "b")])
    assert rules_on(keys, "f") == {"flow-tampering", "flow-sniffing", "flow-dos"}
    stride = {
        t.stride
        for t in enumerate_threats(
            _model([element("a"), element("b")], [flow("f", "a", "b")], []), PACK
        )
        if t.flow == "f"
    }
    assert stride == {"T", "I", "D"}


def test_protected_internal_flow_has_no_tampering_or_disclosure() -> None:
    f = flow("f", "a", "b", encrypted=True, integrity_protected=True, rate_limited=True)
    keys = threats([element("a"), element("b")], [f])
    assert rules_on(keys, "f") == set()


# ------------------------------------------------------------------ boundaries


def _crossing(**props: object) -> set[str]:
    return threats(
        [element("cloud", "external-entity", "cloud-service"), element("pump", boundary="device")],
        [flow("f", "cloud", "pump", "http", **props)],
        ["device"],
    )


def test_unprotected_crossing_flow_gets_the_crossing_rules_not_the_internal_ones() -> None:
    keys = _crossing()
    assert rules_on(keys, "cloud>f>pump") >= {
        "crossing-spoofing",
        "crossing-sniffing",
        "crossing-tampering",
    }
    assert rules_on(keys, "f") == {"flow-dos"}


def test_encrypted_crossing_flow_has_no_disclosure_in_transit() -> None:
    keys = _crossing(encrypted=True)
    assert "crossing-sniffing" not in rules_on(keys, "cloud>f>pump")
    assert "flow-sniffing" not in rules_on(keys, "f")
    assert "crossing-tampering" in rules_on(keys, "cloud>f>pump")


def test_tmt_attribute_names_count_as_protection() -> None:
    keys = _crossing(
        providesConfidentiality="Yes", providesIntegrity="Yes", authenticatesSource="Yes"
    )
    assert not {"crossing-sniffing", "crossing-tampering", "crossing-spoofing"} & rules_on(
        keys, "cloud>f>pump"
    )


def test_unsanitised_input_from_a_less_trusted_zone() -> None:
    assert "untrusted-input" in rules_on(_crossing(), "cloud>f>pump")
    sanitised = threats(
        [
            element("cloud", "external-entity"),
            element("pump", boundary="device", sanitizes_input=True),
        ],
        [flow("f", "cloud", "pump")],
        ["device"],
    )
    assert "untrusted-input" not in rules_on(sanitised, "cloud>f>pump")
    outbound = threats(
        [element("app", "process"), element("pump", boundary="device")],
        [flow("f", "pump", "app")],
        ["device"],
    )
    assert "untrusted-input" not in rules_on(outbound, "pump>f>app")


def test_replies_on_a_bidirectional_flow_are_inbound_for_the_device() -> None:
    keys = threats(
        [element("cloud", "process", "web-service"), element("pump", boundary="device")],
        [flow("f", "pump", "cloud", bidirectional=True)],
        ["device"],
    )
    assert "untrusted-input" in rules_on(keys, "cloud>f>pump")
    assert "untrusted-input" not in rules_on(keys, "pump>f>cloud")


def test_privileged_process_reachable_across_a_boundary() -> None:
    keys = threats(
        [
            element("app", "external-entity"),
            element("svc", boundary="device", runs_privileged=True),
        ],
        [flow("f", "app", "svc")],
        ["device"],
    )
    assert "privileged-exposure" in rules_on(keys, "app>f>svc")
    inside = threats(
        [element("a", boundary="device"), element("svc", boundary="device", runs_privileged=True)],
        [flow("f", "a", "svc")],
        ["device"],
    )
    assert "privileged-exposure" not in rules_on(inside, "a>f>svc")


# ------------------------------------------------------------------ buses, firmware, debug


def test_can_flow_without_authentication_gets_the_field_bus_rule() -> None:
    parts = [element("ecu1", "process", "control-unit"), element("ecu2", "process", "control-unit")]
    assert "fieldbus-spoofing" in rules_on(threats(parts, [flow("f", "ecu1", "ecu2", "can")]), "f")
    for protected in ({"authenticated": True}, {"integrity_protected": True}):
        keys = threats(parts, [flow("f", "ecu1", "ecu2", "can", **protected)])
        assert "fieldbus-spoofing" not in rules_on(keys, "f")


def test_udp_broadcast_is_a_field_bus_but_unicast_udp_is_not() -> None:
    parts = [element("a"), element("b")]
    assert "fieldbus-spoofing" in rules_on(
        threats(parts, [flow("f", "a", "b", "udp", broadcast=True)]), "f"
    )
    assert "fieldbus-spoofing" not in rules_on(threats(parts, [flow("f", "a", "b", "udp")]), "f")


def test_can_flow_across_a_boundary_is_reported_once_as_a_field_bus() -> None:
    keys = threats(
        [
            element("ecu1", "process", "control-unit"),
            element("ecu2", "process", "control-unit", boundary="device"),
        ],
        [flow("f", "ecu1", "ecu2", "can")],
        ["device"],
    )
    assert "fieldbus-spoofing" in rules_on(keys, "f")
    assert "crossing-spoofing" not in rules_on(keys, "ecu1>f>ecu2")


def test_unsigned_firmware_to_a_process_without_secure_boot() -> None:
    parts = [element("vendor", "external-entity", "system"), element("pump", "process", "firmware")]
    keys = threats(parts, [flow("update", "vendor", "pump", carries_firmware=True)])
    assert {"unsigned-firmware", "unverified-boot"} <= rules_on(keys, "update")
    safe = threats(
        [parts[0], element("pump", "process", "firmware", secure_boot=True)],
        [flow("update", "vendor", "pump", carries_firmware=True, signed=True)],
    )
    assert not {"unsigned-firmware", "unverified-boot"} & rules_on(safe, "update")


def test_debug_interfaces() -> None:
    assert "debug-port" in rules_on(threats([element("mcu", debug_interface=True)]), "mcu")
    assert "debug-port" not in rules_on(threats([element("mcu")]), "mcu")
    parts = [element("laptop", "external-entity", "device"), element("mcu")]
    for protocol in ("jtag", "swd"):
        assert "debug-link" in rules_on(threats(parts, [flow("f", "laptop", "mcu", protocol)]), "f")
    assert "debug-link" in rules_on(
        threats(parts, [flow("f", "laptop", "mcu", "serial", debug_interface=True)]), "f"
    )
    assert "debug-link" not in rules_on(threats(parts, [flow("f", "laptop", "mcu", "serial")]), "f")


# ------------------------------------------------------------------ stores and control units


def test_logs_without_tamper_protection() -> None:
    assert "log-tampering" in rules_on(
        threats([element("log", "data-store", stores_logs=True)]), "log"
    )
    protected = threats([element("log", "data-store", stores_logs=True, tamper_protected=True)])
    assert "log-tampering" not in rules_on(protected, "log")
    assert "store-repudiation" in rules_on(protected, "log")
    assert "store-tampering" not in rules_on(protected, "log")


def test_credentials_stored_unencrypted() -> None:
    for store in (
        element("keys", "data-store", stores_credentials=True),
        element("keys", "data-store", "key-store"),
    ):
        found = rules_on(threats([store]), "keys")
        assert "credentials-cleartext" in found
        assert "store-disclosure" not in found
    encrypted = threats([element("keys", "data-store", stores_credentials=True, encrypted=True)])
    assert not {"credentials-cleartext", "store-disclosure"} & rules_on(encrypted, "keys")


def test_control_unit_without_watchdog_risks_therapy_interruption() -> None:
    assert "therapy-interruption" in rules_on(
        threats([element("cu", "process", "control-unit")]), "cu"
    )
    assert "therapy-interruption" not in rules_on(
        threats([element("cu", "process", "control-unit", watchdog=True)]), "cu"
    )
    assert "therapy-interruption" not in rules_on(
        threats([element("web", "process", "web-service")]), "web"
    )


# ------------------------------------------------------------------ whole-model properties

PROTECTIONS: dict[str, list[dict[str, object]]] = {
    "external-entity": [{"authenticated": True}],
    "process": [
        {"sanitizes_input": True},
        {"secure_boot": True},
        {"secure_boot": True, "tamper_resistant": True},
        {"watchdog": True},
        {"authenticated": True},
    ],
    "data-store": [{"encrypted": True}, {"tamper_protected": True}],
    "flow": [
        {"authenticated": True},
        {"encrypted": True},
        {"integrity_protected": True},
        {"signed": True},
        {"rate_limited": True},
    ],
}


def _device_model(
    element_props: dict[str, dict[str, object]], flow_props: dict[str, object]
) -> Model:
    def el(id_: str, type_: str, kind: str, boundary_: str | None, **extra: object) -> Element:
        return element(id_, type_, kind, boundary_, **extra, **element_props.get(type_, {}))

    return _model(
        [
            el("clinician", "external-entity", "person", None),
            el("cloud", "process", "web-service", None, runs_privileged=True),
            el("pump", "process", "control-unit", "device", debug_interface=True),
            el("log", "data-store", "log", "device"),
            el("keys", "data-store", "key-store", "device"),
        ],
        [
            flow("cmd", "clinician", "pump", "ble", **flow_props),
            flow("sync", "pump", "cloud", "https", bidirectional=True, **flow_props),
            flow("fw", "cloud", "pump", "https", carries_firmware=True, **flow_props),
            flow("bus", "pump", "log", "can", **flow_props),
            flow("k", "pump", "keys", "ipc", **flow_props),
        ],
        ["device"],
    )


@pytest.mark.parametrize(
    ("where", "props"),
    [(kind, props) for kind, choices in PROTECTIONS.items() for props in choices],
)
def test_adding_a_protection_never_adds_a_threat(where: str, props: dict[str, object]) -> None:
    before = {t.key for t in enumerate_threats(_device_model({}, {}), PACK)}
    if where == "flow":
        after_model = _device_model({}, props)
    else:
        after_model = _device_model({where: props}, {})
    after = {t.key for t in enumerate_threats(after_model, PACK)}
    assert after <= before
    assert after != before, f"{props} on {where} answers no rule"


def test_titles_and_descriptions_are_filled_in() -> None:
    found = enumerate_threats(_device_model({}, {}), PACK)
    assert found
    for threat in found:
        assert "{" not in threat.title and "}" not in threat.title, threat.key
        assert "{" not in threat.description, threat.key
        assert threat.countermeasures and threat.severity in ("low", "medium", "high", "critical")


# ------------------------------------------------------------------ false positives that are fixed


def _threat_list(m: Model) -> list[Threat]:
    return list(enumerate_threats(m, PACK))


def test_https_across_a_boundary_is_not_reported_as_unencrypted() -> None:
    keys = threats(
        [element("cloud", "external-entity", "cloud-service"), element("pump", boundary="device")],
        [flow("f", "cloud", "pump", "https")],
        ["device"],
    )
    found = rules_on(keys, "cloud>f>pump")
    assert not {"crossing-sniffing", "crossing-tampering"} & found
    assert "crossing-spoofing" not in found  # the cloud is the server, which TLS authenticates
    uploads = threats(
        [element("pump", boundary="device"), element("cloud", "external-entity", "cloud-service")],
        [flow("f", "pump", "cloud", "https")],
        ["device"],
    )
    assert "crossing-spoofing" in rules_on(uploads, "pump>f>cloud")  # the client is not
    # the model's own word wins over what the protocol implies
    weak = threats(
        [element("cloud", "external-entity", "cloud-service"), element("pump", boundary="device")],
        [flow("f", "cloud", "pump", "https", encrypted=False)],
        ["device"],
    )
    assert "crossing-sniffing" in rules_on(weak, "cloud>f>pump")
    assert "crossing-tampering" not in rules_on(weak, "cloud>f>pump")


def test_secure_protocols_on_an_internal_flow_leave_only_denial_of_service() -> None:
    for name in ("mqtts", "dtls", "tls", "wss", "sftp", "ssh"):
        keys = threats([element("a"), element("b")], [flow("f", "a", "b", name)])
        assert rules_on(keys, "f") == {"flow-dos"}, name


def _phone_model() -> Model:
    return model(
        [
            element("patient", "external-entity", "person"),
            element("app", "process", "mobile-app", "phone"),
            element("sensor", "process", "control-unit", "sensor-device"),
            element("radio", "process", "firmware", "sensor-device"),
            element("portal", "process", "web-service", "cloud"),
        ],
        [
            flow("tap", "patient", "app", "ui"),
            flow("fw-down", "portal", "app", "https", carries_firmware=True, signed=True),
            flow("fw-relay", "app", "sensor", "ble", carries_firmware=True, signed=True),
            flow("uart", "radio", "sensor", "uart"),
        ],
        [
            boundary("phone", kind="device"),
            boundary("sensor-device", kind="device"),
            boundary("cloud", kind="cloud"),
        ],
    )


def test_a_person_tapping_a_phone_is_a_user_interaction_not_a_network_flow() -> None:
    found = [t for t in _threat_list(_phone_model()) if t.flow == "tap"]
    rules = {t.rule_id for t in found}
    assert not {"crossing-sniffing", "crossing-tampering", "crossing-spoofing"} & rules
    assert not {"flow-sniffing", "flow-tampering", "flow-dos"} & rules
    assert {"ui-unauthorised-use", "ui-spoofing"} <= rules
    assert all("tls-in-transit" not in t.countermeasures for t in found)


def test_shoulder_surfing_needs_sensitive_data_on_the_screen() -> None:
    parts = [
        element("nurse", "external-entity", "person"),
        element("ui", "process", "control-unit"),
    ]
    assert "ui-shoulder-surfing" not in rules_on(
        threats(parts, [flow("f", "nurse", "ui", "ui")]), "nurse>f>ui"
    )
    assert "ui-shoulder-surfing" in rules_on(
        threats(parts, [flow("f", "nurse", "ui", "ui", carries_credentials=True)]), "nurse>f>ui"
    )


def test_a_relaying_app_gets_no_boot_or_install_threats_the_installing_device_does() -> None:
    found = _threat_list(_phone_model())
    relay = {t.rule_id for t in found if t.flow == "fw-down"}
    assert not {"unverified-boot", "unsigned-firmware", "firmware-rollback"} & relay
    install = {t.rule_id for t in found if t.flow == "fw-relay"}
    assert {"unverified-boot", "firmware-rollback"} <= install
    # the model can say otherwise in both directions
    m = model(
        [
            element("app", "process", "mobile-app", installs_firmware=True),
            element("mcu", "process", "control-unit", installs_firmware=False),
        ],
        [
            flow("f", "app", "mcu", carries_firmware=True),
            flow("g", "mcu", "app", carries_firmware=True),
        ],
    )
    keys = {t.key for t in enumerate_threats(m, PACK)}
    assert "unsigned-firmware@g" in keys and "unsigned-firmware@f" not in keys


def test_an_on_board_uart_gets_bus_threats_and_never_tls() -> None:
    found = [t for t in _threat_list(_phone_model()) if t.flow == "uart"]
    rules = {t.rule_id for t in found}
    assert {"bus-probing", "bus-injection"} <= rules
    assert not {"flow-sniffing", "flow-tampering", "crossing-sniffing"} & rules
    for threat in found:
        assert "tls-in-transit" not in threat.countermeasures, threat.key
    probing = next(t for t in found if t.rule_id == "bus-probing")
    assert probing.exploitability == "low"
    # the same protocol between two devices is not on board
    between = threats(
        [element("a", boundary="d1"), element("b", boundary="d2")],
        [flow("f", "a", "b", "uart")],
        [],
    )
    assert "bus-probing" not in rules_on(between, "f")


def test_a_cloud_web_service_is_not_offered_secure_boot_or_tamper_resistance() -> None:
    found = [t for t in _threat_list(_phone_model()) if t.element == "portal"]
    assert found
    for threat in found:
        assert not {"secure-boot", "tamper-resistance"} & set(threat.countermeasures), threat.key
    sensor = [t for t in _threat_list(_phone_model()) if t.key == "process-tampering@sensor"]
    assert {"secure-boot", "tamper-resistance"} <= set(sensor[0].countermeasures)


def test_an_unknown_or_generic_subject_keeps_every_suggestion() -> None:
    (found,) = [t for t in _threat_list(model([element("p")])) if t.rule_id == "process-tampering"]
    rule = next(r for r in PACK.rules if r.id == "process-tampering")
    assert found.countermeasures == rule.countermeasures


# ------------------------------------------------------------------ rules by kind, on the CGM example

CGM = Path(__file__).resolve().parents[2] / "examples" / "cgm" / "threatmodel.yaml"


def _cgm() -> list[Threat]:
    from threatdelta.formats import native

    return list(enumerate_threats(native.read(CGM.read_bytes(), str(CGM)).model, PACK))


def test_the_cgm_example_shows_every_class_an_expert_expects() -> None:
    keys = {t.key for t in _cgm()}
    expected = {
        # firmware over the air, installed by the sensor, relayed by the app
        "firmware-rollback@firmware-ota",
        "unverified-boot@firmware-ota",
        # BLE
        "ble-pairing-mitm@radio-module>ble-readings>phone-app",
        "radio-replay@radio-module>ble-readings>phone-app",
        "radio-tracking@ble-readings",
        "radio-sniffing@ble-readings",
        # the clinician portal and the API
        "web-xss@clinician>portal-session>clinician-portal",
        "web-csrf@clinician>portal-session>clinician-portal",
        "web-session-hijacking@clinician>portal-session>clinician-portal",
        "web-broken-access-control@clinician-portal",
        "web-broken-access-control@cloud-api",
        "web-sql-injection@cloud-api>readings-store>readings-db",
        # the phone app
        "mobile-insecure-storage@phone-app",
        "mobile-reverse-engineering@phone-app",
        "mobile-inter-app@phone-app",
        "ui-spoofing@patient>app-login>phone-app",
        # loss of the glucose alarm: essential performance outside a control unit
        "essential-function-loss@phone-app",
        "alarm-suppression@ble-readings",
        # on-board UART and SPI
        "bus-probing@raw-glucose",
        "bus-probing@sensor-keys-read",
        # key store, cloud storage, logs
        "keys-not-in-hardware@sensor-key-store",
        "shared-device-keys@sensor-key-store",
        "cloud-storage-exposure@firmware-bucket",
        "log-tampering@portal-audit-log",
    }
    assert expected <= keys, sorted(expected - keys)


def test_the_cgm_example_has_none_of_the_false_positives() -> None:
    found = _cgm()
    keys = {t.key for t in found}
    # https is encrypted; the app only relays firmware; UART gets no TLS; a person at a screen
    # is no network flow; cloud services get no secure boot or tamper resistance
    assert not {k for k in keys if k.startswith(("crossing-sniffing@", "crossing-tampering@"))}
    assert not {k for k in keys if "firmware-download" in k and "boot" in k}
    assert "unsigned-firmware@firmware-ota" not in keys  # signed
    for threat in found:
        if threat.flow in ("raw-glucose", "sensor-keys-read"):
            assert "tls-in-transit" not in threat.countermeasures, threat.key
        if threat.flow in ("app-screen", "app-login"):
            assert not threat.rule_id.startswith(("crossing-", "flow-")), threat.key
        if threat.element in ("cloud-api", "clinician-portal", "phone-app"):
            assert not {"secure-boot", "tamper-resistance"} & set(threat.countermeasures)
    # one denial-of-service threat per flow
    d_threats = [t.flow for t in found if t.stride == "D" and t.flow is not None]
    assert len(d_threats) == len(set(d_threats))


def test_hazards_and_essential_performance_reach_the_cgm_threats() -> None:
    by_key = {t.key: t for t in _cgm()}
    alarm = by_key["alarm-suppression@ble-readings"]
    assert alarm.hazards == ("HAZ-CGM-01", "HAZ-CGM-02") and alarm.essential_performance
    assert alarm.severity == "critical"
    loss = by_key["essential-function-loss@phone-app"]
    assert loss.severity in ("high", "critical") and loss.hazards == ("HAZ-CGM-02",)
    # availability and integrity threats to essential performance are at least high
    for threat in by_key.values():
        if threat.essential_performance and threat.stride in "TD":
            assert threat.severity in ("high", "critical"), threat.key
    assert by_key["radio-tracking@ble-readings"].severity == "low"  # not about the readings
    assert by_key["radio-sniffing@ble-readings"].severity == "high"  # phi


def test_web_rules_need_a_person_in_a_browser_and_say_what_answers_them() -> None:
    person = element("nurse", "external-entity", "person")
    portal = element("portal", "process", "web-service")
    device = element("pump", "external-entity", "device")
    people = rules_on(
        threats([person, portal], [flow("f", "nurse", "portal", "https")]), "nurse>f>portal"
    )
    assert {"web-xss", "web-csrf", "web-session-hijacking", "web-credential-stuffing"} <= people
    machines = rules_on(
        threats([device, portal], [flow("f", "pump", "portal", "https")]), "pump>f>portal"
    )
    assert not {"web-xss", "web-csrf", "web-session-hijacking"} & machines
    hardened = threats(
        [
            person,
            element(
                "portal",
                "process",
                "web-service",
                output_encoding=True,
                csrf_protection=True,
                session_management=True,
                multi_factor=True,
            ),
        ],
        [flow("f", "nurse", "portal", "https")],
    )
    assert not {"web-xss", "web-csrf", "web-session-hijacking", "web-credential-stuffing"} & (
        rules_on(hardened, "nurse>f>portal")
    )
    ssrf = threats([element("api", "process", "web-service", fetches_urls=True)])
    assert "web-ssrf" in rules_on(ssrf, "api")
    assert "web-ssrf" not in rules_on(threats([portal]), "portal")


def test_radio_rules_and_their_protections() -> None:
    parts = [element("sensor", "process", "control-unit"), element("app", "process", "mobile-app")]
    open_link = rules_on(threats(parts, [flow("f", "sensor", "app", "ble")]), "sensor>f>app")
    assert {"ble-pairing-mitm", "radio-replay"} <= open_link
    assert not {"crossing-spoofing", "radio-spoofing"} & open_link
    protected = threats(
        parts,
        [
            flow(
                "f",
                "sensor",
                "app",
                "ble",
                authenticated_pairing=True,
                anti_replay=True,
                encrypted=True,
                private_address=True,
            )
        ],
    )
    assert not {"ble-pairing-mitm", "radio-replay"} & rules_on(protected, "sensor>f>app")
    assert not {"radio-sniffing", "radio-tracking"} & rules_on(protected, "f")
    zigbee = rules_on(threats(parts, [flow("f", "sensor", "app", "zigbee")]), "sensor>f>app")
    assert "radio-spoofing" in zigbee and "ble-pairing-mitm" not in zigbee


def test_an_on_board_bus_is_only_exploitable_with_the_enclosure_open() -> None:
    found = [t for t in _cgm() if t.flow == "raw-glucose"]
    assert found and {t.exploitability for t in found} == {"low"}
