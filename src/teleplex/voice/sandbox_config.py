"""Per-instance Asterisk configuration for the sandbox: free ports, credentials, and files rendered from templates.

Every file an instance reads is written into its own folder, and every port is chosen free at run time, so
two sandboxes (or a sandbox next to a developer's own Asterisk or SIP tools) never share state or collide.
"""

from __future__ import annotations

import random
import re
import secrets
import socket
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

APP_NAME = "teleplex"
CARRIER_ENDPOINT = "carrier"
DEFAULT_AGENTS: tuple[str, ...] = ("1001", "1002", "1003", "1004")
RTP_WINDOW = 400  # ports per instance: 200 concurrent calls (RTP + RTCP each)
RTP_RANGE = (20000, 59999)

_INSTANCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
_AGENT_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")

# Modules that open ports of their own, need hardware or outside services, duplicate another module,
# or only slow start-up. Everything else Debian ships is autoloaded (ARI, Stasis, PJSIP, bridges, app_queue,
# app_amd, MOH, codecs and formats, snoop, ...).
# fmt: off
NOLOAD_MODULES: tuple[str, ...] = (
    # ports / network services of their own
    "chan_iax2", "chan_unistim", "chan_motif", "pbx_dundi", "res_xmpp", "res_hep", "res_hep_pjsip",
    "res_hep_rtcp", "res_stun_monitor", "res_snmp", "res_statsd", "res_prometheus", "res_phoneprov",
    "res_pjsip_phoneprov_provider", "chan_audiosocket", "res_audiosocket", "res_aeap", "res_speech_aeap",
    # hardware, consoles, external engines
    "chan_console", "chan_alsa", "chan_oss", "app_jack", "app_festival", "app_mp3", "res_smdi", "app_sms",
    # databases and realtime back ends we do not configure
    "res_odbc", "res_odbc_transaction", "res_config_odbc", "res_config_pgsql", "res_config_ldap",
    "res_config_sqlite3", "res_config_curl", "res_config_mysql", "func_odbc", "app_voicemail_odbc",
    "pbx_realtime", "pbx_lua", "pbx_ael", "res_ael_share", "res_calendar", "res_calendar_caldav",
    "res_calendar_ews", "res_calendar_exchange", "res_calendar_icalendar",
    # records: Teleplex keeps its own
    "cdr_adaptive_odbc", "cdr_csv", "cdr_custom", "cdr_manager", "cdr_odbc", "cdr_pgsql", "cdr_radius",
    "cdr_sqlite3_custom", "cdr_tds", "cel_custom", "cel_manager", "cel_odbc", "cel_pgsql", "cel_radius",
    "cel_sqlite3_custom", "cel_tds", "res_cdrel_custom",
    # features the sandbox does not use and that slow start or need keys
    "app_minivm", "res_stir_shaken", "res_pjsip_stir_shaken", "res_geolocation",
    "res_pjsip_geolocation", "res_fax", "res_fax_spandsp", "res_resolver_unbound", "res_timing_pthread",
    "res_parking", "app_sla", "app_meetme", "app_audiosocket", "app_agent_pool", "app_confbridge", "app_page",
    "app_alarmreceiver", "app_followme", "res_clialiases", "app_adsiprog", "app_getcpeid", "res_adsi",
)
# fmt: on

# Files whose modules run fine on defaults but log an error when the file is missing; written empty so the
# instance's log shows only what matters.
# fmt: off
DEFAULTS_ONLY_CONFIGS: tuple[str, ...] = (
    "acl.conf", "ccss.conf", "features.conf", "udptl.conf", "pjproject.conf", "pjsip_wizard.conf",
    "pjsip_notify.conf", "websocket_client.conf", "chan_websocket.conf", "res_http_media_cache.conf",
    "queuerules.conf",
)
# fmt: on


@dataclass(frozen=True)
class AgentDevice:
    """A PJSIP endpoint for an agent's phone; a SIPp UAS either registers or is reached at a static contact."""

    name: str
    password: str = field(default_factory=lambda: secrets.token_hex(8))
    contact: str | None = None  # e.g. "sip:1001@127.0.0.1:5071"; None means the device registers
    webrtc: bool = False  # browser phone over the WS transport (DTLS-SRTP, opus)

    def __post_init__(self) -> None:
        if not _AGENT_NAME.match(self.name):
            raise ValueError(f"agent device name {self.name!r} must be letters, digits, '_', '.', '-'")


@dataclass(frozen=True)
class SandboxPorts:
    """Ports one instance listens on, all on 127.0.0.1."""

    http: int  # ARI REST + WebSocket, PJSIP WS transport (/ws)
    sip_udp: int
    ami: int
    rtp_start: int
    rtp_end: int


@dataclass(frozen=True)
class InstanceConfig:
    """Everything needed to render one instance's configuration."""

    instance: str
    chroot_dir: str  # the instance folder as seen inside the chroot, e.g. /teleplex/default
    module_dir: str  # as seen inside the chroot
    moh_dir: str  # as seen inside the chroot
    ports: SandboxPorts
    ari_user: str
    ari_password: str
    ami_user: str
    ami_password: str
    agents: tuple[AgentDevice, ...]
    app: str = APP_NAME
    carrier: str = CARRIER_ENDPOINT
    carrier_contact: str | None = None  # where outbound calls to the carrier go (e.g. a PSTN emulator)

    @property
    def asterisk_conf(self) -> str:
        """Path of asterisk.conf inside the chroot; what `asterisk -C` is given."""
        return f"{self.chroot_dir}/etc/asterisk.conf"


def validate_instance_name(instance: str) -> str:
    """Instance names become folder names and part of a Unix socket path, so keep them short and plain."""
    if not _INSTANCE_NAME.match(instance):
        raise ValueError(
            f"instance name {instance!r} must be 1-40 letters, digits, '_' or '-', starting with a letter or digit"
        )
    return instance


def free_tcp_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the kernel picks it, so parallel runs rarely collide)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_udp_port() -> int:
    """A UDP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def udp_port_free(port: int) -> bool:
    """Whether this UDP port can be bound on 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def distinct_ports(count: int) -> list[int]:
    """`count` different free TCP ports (each also probed free for UDP), for one instance."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_tcp_port()
        if port not in ports and _udp_free(port):
            ports.append(port)
    return ports


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def choose_rtp_window(
    taken: Iterable[tuple[int, int]] = (), avoid: Iterable[int] = (), size: int = RTP_WINDOW
) -> tuple[int, int]:
    """An even-aligned RTP port window that overlaps no other sandbox's window and whose ports are free now.

    Asterisk only binds RTP ports during calls, so "free now" is not enough: windows of other instances
    (from their state files) are avoided too.
    """
    taken = list(taken)
    avoid_set = set(avoid)
    low, high = RTP_RANGE
    rng = random.Random()
    # Right after each taken window (fills gaps), then whole windows from a random offset (spreads instances).
    after_taken = [end + 1 + (end + 1) % 2 for _, end in taken]
    offset = rng.randrange(0, size, 2)
    spread = list(range(low + offset, high - size + 1, size))
    rng.shuffle(spread)
    for start in after_taken + spread:
        end = start + size - 1
        if start < low or end > high:
            continue
        if any(start <= t_end and t_start <= end for t_start, t_end in taken):
            continue
        if any(start <= p <= end for p in avoid_set):
            continue
        # Probe a sample; probing all ports would take long and still be a guess.
        if all(_udp_free(p) for p in range(start, end + 1, 20)):
            return start, end
    raise RuntimeError(f"no free RTP port window found in {low}-{high}")


def allocate_ports(taken_rtp: Iterable[tuple[int, int]] = ()) -> SandboxPorts:
    """Free ports for HTTP/ARI, SIP UDP and AMI, and an RTP window, chosen at run time."""
    http, sip_udp, ami = distinct_ports(3)
    rtp_start, rtp_end = choose_rtp_window(taken_rtp, avoid=(http, sip_udp, ami))
    return SandboxPorts(http=http, sip_udp=sip_udp, ami=ami, rtp_start=rtp_start, rtp_end=rtp_end)


def as_agent_devices(agents: Sequence[str | AgentDevice] | None) -> tuple[AgentDevice, ...]:
    """Accept plain names ("1001") or AgentDevice objects; None means the default four agents."""
    if agents is None:
        agents = DEFAULT_AGENTS
    devices = tuple(a if isinstance(a, AgentDevice) else AgentDevice(name=str(a)) for a in agents)
    names = [d.name for d in devices]
    if len(set(names)) != len(names):
        raise ValueError(f"agent device names must be unique: {names}")
    if CARRIER_ENDPOINT in names:
        raise ValueError(f"{CARRIER_ENDPOINT!r} is the carrier trunk, not an agent name")
    return devices


# Only {{name}} is a placeholder; "escaped" and "named" are required groups that never match.
_PLACEHOLDER = r"""
\{\{(?:
  (?P<escaped>(?!))|
  (?P<named>(?!))|
  (?P<braced>[a-z_][a-z0-9_]*)\}\}|
  (?P<invalid>)
)
"""


class _ConfTemplate(string.Template):
    """`{{name}}` placeholders: Asterisk's own `${VAR}` dialplan syntax must pass through untouched."""

    delimiter = "{{"
    pattern = _PLACEHOLDER  # type: ignore[assignment]  # a str is what Template compiles


def render_template(template: str, /, **values: object) -> str:
    """Render one file of sandbox_templates/; a missing value is an error, not a silent blank."""
    text = (
        resources.files("teleplex.voice").joinpath("sandbox_templates", template).read_text(encoding="utf-8")
    )
    return _ConfTemplate(text).substitute({k: str(v) for k, v in values.items()})


def _agent_section(agent: AgentDevice) -> str:
    if agent.webrtc:
        webrtc = "webrtc = yes\ndtls_auto_generate_cert = yes\n"
        transport, codecs = "transport-ws", "opus,ulaw"
    else:
        webrtc, transport, codecs = "", "transport-udp", "ulaw,alaw,gsm"
    contact = f"contact = {agent.contact}\n" if agent.contact else ""
    return render_template(
        "pjsip_agent.conf",
        name=agent.name,
        password=agent.password,
        transport=transport,
        codecs=codecs,
        webrtc=webrtc,
        contact=contact,
    )


def render_all(cfg: InstanceConfig) -> dict[str, str]:
    """File name -> content for every configuration file of one instance."""
    ports = cfg.ports
    common = {"instance": cfg.instance}
    carrier_aor = f"\n[{cfg.carrier}]\ntype = aor\n"
    if cfg.carrier_contact:
        carrier_aor += f"contact = {cfg.carrier_contact}\n"
    files = {
        "asterisk.conf": render_template(
            "asterisk.conf", dir=cfg.chroot_dir, moddir=cfg.module_dir, **common
        ),
        "modules.conf": render_template(
            "modules.conf", noload="\n".join(f"noload => {m}.so" for m in NOLOAD_MODULES)
        ),
        "http.conf": render_template("http.conf", http_port=ports.http),
        "ari.conf": render_template("ari.conf", ari_user=cfg.ari_user, ari_password=cfg.ari_password),
        "manager.conf": render_template(
            "manager.conf", ami_port=ports.ami, ami_user=cfg.ami_user, ami_password=cfg.ami_password
        ),
        "pjsip.conf": render_template(
            "pjsip.conf",
            sip_port=ports.sip_udp,
            carrier=cfg.carrier,
            carrier_aor=carrier_aor,
            agents="\n".join(_agent_section(a) for a in cfg.agents),
            **common,
        ),
        "extensions.conf": render_template("extensions.conf", app=cfg.app, carrier=cfg.carrier, **common),
        "musiconhold.conf": render_template("musiconhold.conf", moh_dir=cfg.moh_dir),
        "logger.conf": render_template("logger.conf"),
        "rtp.conf": render_template("rtp.conf", rtp_start=ports.rtp_start, rtp_end=ports.rtp_end),
        "cdr.conf": render_template("cdr.conf"),
        "cel.conf": render_template("cel.conf"),
        "queues.conf": render_template("queues.conf"),
        "amd.conf": render_template("amd.conf"),
        "indications.conf": render_template("indications.conf"),
        "voicemail.conf": render_template("voicemail.conf", **common),
        "sorcery.conf": render_template("sorcery.conf"),  # browser phones pushed over ARI live in memory
    }
    for name in DEFAULTS_ONLY_CONFIGS:
        files[name] = "; Written by Teleplex: this module's defaults are what the sandbox needs.\n"
    return files


def write_config(cfg: InstanceConfig, etc_dir: Path) -> list[Path]:
    """Write the instance's configuration into etc_dir, replacing what an earlier `up` left there.

    Passwords are in these files, so they are readable by root only.
    """
    etc_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, text in render_all(cfg).items():
        path = etc_dir / name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)
        written.append(path)
    return written


def random_credentials() -> dict[str, str]:
    """Fresh ARI and AMI credentials for each `up`; a leaked state file goes stale at the next restart."""
    return {
        "ari_user": "teleplex",
        "ari_password": secrets.token_urlsafe(18),
        "ami_user": "teleplex",
        "ami_password": secrets.token_urlsafe(18),
    }
