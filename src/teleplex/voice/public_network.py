"""A stand-in for the public telephone network: a second sandbox Asterisk behind the center's carrier trunk.

`teleplex serve --sandbox` starts it so campaigns can be tried without a carrier, and the dialer's tests call
it. Each number behaves like one kind of far end. The center's campaign trunk `PJSIP/{number}@carrier` reaches
this instance (its `carrier_contact`); calls from 127.0.0.1 land in its `from-carrier` context, where these
exact numbers win over the sandbox's own `_X.` pattern (which also cannot match a leading +).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from teleplex.voice.sandbox import Sandbox

PERSON = "+34911234501"  # rings a second, answers, says "hello", then listens quietly for 8 s and hangs up
BUSY = "+34911234502"
RINGS_OUT = "+34911234503"  # rings until the dialer gives up
MACHINE = "+34911234504"  # a long greeting, a beep, then records a message for up to 20 s
PERSON_2 = "+34911234505"
PERSON_LONG = "+34911234506"  # like PERSON, but stays 40 s (a call an agent is still on)
MESSAGES_DIR = "/tmp/public-network-messages"  # inside that instance's root file system

DIALPLAN = f"""
[from-carrier]
exten => {PERSON},1,Ringing()
 same => n,Wait(1)
 same => n,Answer()
 same => n,Wait(0.3)
 same => n,Playback(hello)
 same => n,Playback(silence/8)
 same => n,Hangup()
exten => {PERSON_2},1,Goto({PERSON},1)
exten => {PERSON_LONG},1,Ringing()
 same => n,Wait(1)
 same => n,Answer()
 same => n,Wait(0.3)
 same => n,Playback(hello)
 same => n,Playback(silence/10&silence/10&silence/10&silence/10)
 same => n,Hangup()
exten => {BUSY},1,Busy(5)
exten => {RINGS_OUT},1,Ringing()
 same => n,Wait(300)
exten => {MACHINE},1,Answer()
 same => n,Wait(0.3)
 same => n,Playback(vm-intro)
 same => n,Playback(beep)
 same => n,System(mkdir -p {MESSAGES_DIR})
 same => n,Record({MESSAGES_DIR}/message-%d.wav,3,20,k)
 same => n,Hangup()
"""


def install(sandbox: Sandbox) -> Path:
    """Give a started sandbox instance these numbers; returns where it records messages left on the machine."""
    state = sandbox.read_state()
    assert state is not None, "start the instance first"
    (Path(state.instance_dir) / "etc" / "extensions_custom.conf").write_text(DIALPLAN)
    sandbox.rx("dialplan reload")
    return Path(state.rootfs) / MESSAGES_DIR.lstrip("/")
