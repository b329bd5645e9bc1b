import pytest

from teleplex.core.settings import SettingsError, load_settings


def test_defaults_give_the_embedded_database_on_port_8080(monkeypatch):
    monkeypatch.delenv("TELEPLEX_DATABASE_URL", raising=False)
    monkeypatch.delenv("TELEPLEX_HTTP_PORT", raising=False)
    s = load_settings()
    assert s.http_port == 8080 and s.is_sqlite and s.database_url.startswith("sqlite+aiosqlite:///")


def test_environment_variables_are_read(monkeypatch):
    monkeypatch.setenv("TELEPLEX_HTTP_PORT", "9090")
    monkeypatch.setenv("TELEPLEX_DATABASE_URL", "postgresql://u@db:5432/cc")
    s = load_settings()
    assert s.http_port == 9090
    assert s.database_url == "postgresql+asyncpg://u@db:5432/cc"


def test_invalid_setting_is_named(monkeypatch):
    monkeypatch.setenv("TELEPLEX_HTTP_PORT", "seventy")
    with pytest.raises(SettingsError, match="TELEPLEX_HTTP_PORT"):
        load_settings()


def test_unsupported_database_is_refused(monkeypatch):
    monkeypatch.setenv("TELEPLEX_DATABASE_URL", "mysql://x@y/z")
    with pytest.raises(SettingsError, match="TELEPLEX_DATABASE_URL.*sqlite:/// or postgresql://"):
        load_settings()


def test_toml_file_is_read_and_environment_wins(tmp_path, monkeypatch):
    monkeypatch.delenv("TELEPLEX_HTTP_PORT", raising=False)
    cfg = tmp_path / "teleplex.toml"
    cfg.write_text('http_port = 7070\nlog_level = "DEBUG"\n')
    assert load_settings(cfg).http_port == 7070
    monkeypatch.setenv("TELEPLEX_HTTP_PORT", "7171")
    s = load_settings(cfg)
    assert s.http_port == 7171 and s.log_level == "DEBUG"


def test_unknown_key_in_toml_is_named(tmp_path):
    cfg = tmp_path / "teleplex.toml"
    cfg.write_text("htp_port = 1\n")
    with pytest.raises(SettingsError, match="htp_port"):
        load_settings(cfg)


def test_missing_config_file_is_reported(tmp_path):
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_broken_toml_is_reported(tmp_path):
    cfg = tmp_path / "teleplex.toml"
    cfg.write_text("http_port = = 1\n")
    with pytest.raises(SettingsError, match="cannot read settings"):
        load_settings(cfg)
