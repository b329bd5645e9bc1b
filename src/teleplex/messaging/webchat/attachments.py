"""Files in web chat, both ways: what may be attached (size and type, checked against the file's first bytes,
not only the type the browser claims), where it is kept (beside the providers' media), and how it is named.

The checks are pure; `store` and `open_stored` are the only file I/O.
"""

from __future__ import annotations

import mimetypes
import re
import secrets
from pathlib import Path

from teleplex.core.errors import InvalidInput, TeleplexError
from teleplex.messaging.providers.base import MessageKind

FILE_KINDS = frozenset({MessageKind.IMAGE, MessageKind.AUDIO, MessageKind.VIDEO, MessageKind.DOCUMENT})
REFERENCE = "media:"  # how an uploaded file is named in OutgoingContent.media_url: media:<channel>/<file>
_STORED = re.compile(r"^(?P<channel>[0-9]{1,10})/(?P<name>[0-9a-f]{32}\.[a-z0-9]{1,8})$")
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
}


class AttachmentTooLarge(TeleplexError):
    status, code, reason = 413, "attachment_too_large", "file_too_large"


class AttachmentTypeNotAllowed(TeleplexError):
    status, code, reason = 415, "attachment_type_not_allowed", "file_type_refused"


def media_type(content_type: str | None) -> str:
    """`image/png; charset=...` -> `image/png`."""
    return (content_type or "").split(";")[0].strip().lower()


def check(mime: str, content: bytes, allowed: list[str], max_bytes: int) -> None:
    """Refuse an empty or too large file, a type not allowed, and a file whose bytes are not what its type
    says (a renamed executable is not an image)."""
    if len(content) > max_bytes:
        raise AttachmentTooLarge(f"the file exceeds {max_bytes} bytes", {"max_bytes": max_bytes})
    if not content:
        raise InvalidInput("the file is empty", {"field": "body"}, reason="file_empty")
    if mime not in allowed:
        raise AttachmentTypeNotAllowed(f"files of type '{mime[:100]}' are not accepted", {"allowed": allowed})
    if not matches(mime, content):
        raise AttachmentTypeNotAllowed(f"the file's content is not {mime}", {"allowed": allowed})


def matches(mime: str, content: bytes) -> bool:
    """Whether the file's first bytes fit its type (types without a known signature are taken as given)."""
    if mime == "image/webp":
        return content[:4] == b"RIFF" and content[8:12] == b"WEBP"
    if mime == "text/plain":
        try:
            return "\x00" not in content.decode("utf-8")
        except UnicodeDecodeError:
            return False
    signatures = _SIGNATURES.get(mime)
    return signatures is None or content.startswith(signatures)


def kind_for(mime: str) -> MessageKind:
    top = mime.split("/")[0]
    return {"image": MessageKind.IMAGE, "audio": MessageKind.AUDIO, "video": MessageKind.VIDEO}.get(
        top, MessageKind.DOCUMENT)


def safe_filename(name: str | None, mime: str) -> str:
    """A name to show and to download as: no path, no control or quoting characters, at most 100 long."""
    base = re.sub(r"[^A-Za-z0-9._ ()-]", "_", (name or "").replace("\\", "/").split("/")[-1]).strip(" .")
    return base[:100] or "attachment" + (mimetypes.guess_extension(mime) or "")


def store(media_dir: Path, channel_id: int, mime: str, content: bytes) -> str:
    """Write the file under var_dir/media/<channel>/ as the providers' media are; returns its stored path."""
    name = secrets.token_hex(16) + (mimetypes.guess_extension(mime) or ".bin")
    folder = media_dir / str(channel_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)
    return f"{channel_id}/{name}"


def remove(media_dir: Path, stored: str) -> None:
    """Undo `store` when the message could not be kept (nothing half-stored stays behind)."""
    (media_dir / stored).unlink(missing_ok=True)


def stored_path(reference: str | None, channel_id: int) -> str | None:
    """The stored path a `media:<channel>/<file>` reference names, when it is well formed and this channel's."""
    if not reference or not reference.startswith(REFERENCE):
        return None
    found = _STORED.match(reference[len(REFERENCE):])
    if found is None or int(found["channel"]) != channel_id:
        return None
    return reference[len(REFERENCE):]


def mime_of(stored: str) -> str:
    return mimetypes.guess_type(stored)[0] or "application/octet-stream"
