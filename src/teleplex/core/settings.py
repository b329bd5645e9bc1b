"""Settings from TELEPLEX_* environment variables and an optional TOML file, validated once at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/teleplex.db"


class SettingsError(Exception):
    """Settings that cannot be used; the message names each bad setting so an operator can fix it."""


class Settings(BaseSettings):
    """Everything an operator can set. Environment wins over the TOML file, which wins over defaults."""

    model_config = SettingsConfigDict(env_prefix="TELEPLEX_", extra="forbid", validate_default=True)
    toml_file: ClassVar[Path | None] = None

    database_url: str = DEFAULT_DATABASE_URL
    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=1, le=65535)
    admin_password: SecretStr | None = None
    var_dir: Path = Path("var")
    log_level: str = Field("INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    log_json: bool | None = None  # None: JSON when stderr is not a terminal
    token_ttl_seconds: int = Field(12 * 3600, ge=60, le=30 * 24 * 3600)
    cookie_secure: bool = True
    login_free_failures: int = Field(3, ge=1, le=100)
    login_max_delay_seconds: int = Field(60, ge=1, le=3600)
    login_lockout_failures: int = Field(10, ge=2, le=1000)
    login_lockout_seconds: int = Field(900, ge=1, le=86400)
    ari_url: str | None = Field(None, pattern=r"^https?://[^\s]+$")  # unset: no voice engine
    ari_user: str = "teleplex"
    ari_password: SecretStr = SecretStr("")
    ari_app: str = Field("teleplex", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    outbound_endpoint: str = Field("PJSIP/{number}@carrier", pattern=r"^[A-Za-z0-9]+/.*\{number\}.*$")
    phone_region: str = Field("US", pattern=r"^[A-Z]{2}$")  # for numbers dialled without a country code
    recordings_dir: Path | None = None  # where Asterisk writes recordings; default: Asterisk's own
    # digital channels (messaging/): the key that encrypts channel credentials at rest (default: a key file
    # created in var_dir), the providers' base URLs (tests point them at local fakes), timeouts and workers
    credentials_key: SecretStr | None = None
    whatsapp_api_url: str = Field("https://graph.facebook.com/v21.0", pattern=r"^https?://[^\s]+$")
    telegram_api_url: str = Field("https://api.telegram.org", pattern=r"^https?://[^\s]+$")
    twilio_api_url: str = Field("https://api.twilio.com", pattern=r"^https?://[^\s]+$")
    provider_timeout_seconds: float = Field(10.0, gt=0, le=120)
    messaging_workers: bool = True  # outbox sender, Telegram long polling, recovery of unprocessed webhooks
    conversation_reopen_minutes: int = Field(60, ge=0, le=10080)  # a customer writing again within: reopened
    # web chat attachments (messaging/webchat/attachments.py): the largest file either side may attach, and the
    # types accepted (checked against the file's first bytes where the type has a signature)
    webchat_attachment_max_bytes: int = Field(10 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    webchat_attachment_types: list[str] = Field(default_factory=lambda: [
        "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"])
    # how fast anonymous visitors may go (messaging/webchat/limits.py): messages and files per visitor, sessions
    # per client address; a first burst at once, then so many a minute
    webchat_messages_per_minute: float = Field(60.0, gt=0, le=1_000_000)
    webchat_messages_burst: int = Field(20, ge=1, le=1_000_000)
    webchat_sessions_per_minute: float = Field(30.0, gt=0, le=1_000_000)
    webchat_sessions_burst: int = Field(60, ge=1, le=1_000_000)
    # the campaign dialer (campaigns/live.py): how often it paces, and AMD's measured false-positive rate
    dialer_tick_seconds: float = Field(1.0, gt=0, le=10)
    dialer_amd_false_positive_rate: float = Field(0.01, ge=0, lt=0.5)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        """Accept the URLs people paste (postgresql://, sqlite:///) and pick the async driver for them."""
        if url.startswith(("postgres://", "postgresql://")):
            return "postgresql+asyncpg://" + url.split("://", 1)[1]
        if url.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
        if url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite:///")):
            return url
        raise ValueError("must be a sqlite:/// or postgresql:// URL")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls.toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls.toml_file))
        return tuple(sources)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read and validate settings, turning pydantic's report into one readable message per bad setting."""
    if config_file is not None and not config_file.is_file():
        raise SettingsError(f"config file {config_file} does not exist")
    Settings.toml_file = config_file
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "settings"
            where = f"TELEPLEX_{name.upper()}" if err["type"] != "extra_forbidden" else name
            lines.append(f"invalid setting {where}: {err['msg']}")
        raise SettingsError("\n".join(lines)) from None
    except Exception as exc:  # a TOML syntax error, for one
        raise SettingsError(f"cannot read settings: {exc}") from None
    finally:
        Settings.toml_file = None
