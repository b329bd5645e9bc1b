"""The sandbox configuration writer, without Asterisk: what each instance's files say."""

from __future__ import annotations

from pathlib import Path

import pytest

from teleplex.voice.sandbox_config import (
    AgentDevice,
    InstanceConfig,
    SandboxPorts,
    allocate_ports,
    as_agent_devices,
    choose_rtp_window,
    render_all,
    render_template,
    validate_instance_name,
    write_config,
)


def make_config(**changes: object) -> InstanceConfig:
    values: dict[str, object] = {
        "instance": "unit",
        "chroot_dir": "/teleplex/unit",
        "module_dir": "/usr/lib/x86_64-linux-gnu/asterisk/modules",
        "moh_dir": "/usr/share/asterisk/moh",
        "ports": SandboxPorts(http=18088, sip_udp=15060, ami=15038, rtp_start=30000, rtp_end=30399),
        "ari_user": "teleplex",
        "ari_password": "ari-secret",
        "ami_user": "teleplex",
        "ami_password": "ami-secret",
        "agents": as_agent_devices(
            ["1001", AgentDevice("1002", password="p2", contact="sip:1002@127.0.0.1:5071")]
        ),
    }
    values.update(changes)
    return InstanceConfig(**values)  # type: ignore[arg-type]


def test_every_directory_of_asterisk_conf_that_asterisk_writes_is_the_instances_own() -> None:
    text = render_all(make_config())["asterisk.conf"]
    for key in (
        "astetcdir",
        "astvarlibdir",
        "astdbdir",
        "astspooldir",
        "astrundir",
        "astlogdir",
        "astcachedir",
    ):
        line = next(line for line in text.splitlines() if line.startswith(key))
        assert line.split("=>")[1].strip().startswith("/teleplex/unit/"), line


def test_dialplan_hands_carrier_calls_to_stasis_with_the_did_and_keeps_asterisk_variables() -> None:
    text = render_all(make_config())["extensions.conf"]
    assert "[from-carrier]" in text
    assert "Stasis(teleplex,inbound,${EXTEN})" in text
    assert "{{" not in text
    for exten in ("answer", "ring", "busy", "echo"):
        assert f"exten => {exten},1," in text


def test_ports_and_credentials_land_in_their_files() -> None:
    files = render_all(make_config())
    assert "bindport = 18088" in files["http.conf"]
    assert "bind = 127.0.0.1:15060" in files["pjsip.conf"]
    assert "port = 15038" in files["manager.conf"] and "secret = ami-secret" in files["manager.conf"]
    assert "password = ari-secret" in files["ari.conf"]
    assert "rtpstart = 30000" in files["rtp.conf"] and "rtpend = 30399" in files["rtp.conf"]


def test_agents_get_auth_and_aor_and_a_static_contact_only_when_given() -> None:
    pjsip = render_all(make_config())["pjsip.conf"]
    assert "endpoint_identifier_order = username,ip,anonymous" in pjsip
    assert "username = 1001" in pjsip and "username = 1002" in pjsip
    assert "password = p2" in pjsip
    contacts = [line for line in pjsip.splitlines() if line.startswith("contact = ")]
    assert contacts == ["contact = sip:1002@127.0.0.1:5071"]


def test_webrtc_agent_uses_the_websocket_transport_and_dtls() -> None:
    cfg = make_config(agents=as_agent_devices([AgentDevice("web1", webrtc=True)]))
    pjsip = render_all(cfg)["pjsip.conf"]
    assert "transport = transport-ws" in pjsip and "webrtc = yes" in pjsip


def test_a_missing_template_value_is_an_error_not_a_blank() -> None:
    with pytest.raises(KeyError):
        render_template("http.conf")


def test_agent_names_must_be_unique_and_not_the_carrier() -> None:
    with pytest.raises(ValueError):
        as_agent_devices(["1001", "1001"])
    with pytest.raises(ValueError):
        as_agent_devices(["carrier"])


@pytest.mark.parametrize("name", ["", "a/b", "../x", "-lead", "x" * 41])
def test_instance_names_that_would_escape_or_break_paths_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        validate_instance_name(name)


def test_rtp_window_avoids_windows_of_other_instances() -> None:
    taken = [(20000, 39999), (40400, 59999)]
    start, end = choose_rtp_window(taken, size=400)
    assert (start, end) == (40000, 40399)


def test_allocated_ports_are_distinct() -> None:
    ports = allocate_ports()
    assert len({ports.http, ports.sip_udp, ports.ami}) == 3
    assert not ports.rtp_start <= ports.http <= ports.rtp_end


def test_written_files_are_readable_by_root_only(tmp_path: Path) -> None:
    written = write_config(make_config(), tmp_path / "etc")
    assert {p.name for p in written} >= {"asterisk.conf", "pjsip.conf", "extensions.conf", "manager.conf"}
    assert all(p.stat().st_mode & 0o077 == 0 for p in written)
