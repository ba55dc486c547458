"""Settings: CLI > environment (OLLAMA_INGEST_*, and influxdb-client's INFLUXDB_V2_*) > TOML file."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_CONFIG = "/etc/ollama-ingest/config.toml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OLLAMA_INGEST_", extra="forbid")

    url: str = Field("http://127.0.0.1:8086", validation_alias=AliasChoices("OLLAMA_INGEST_URL", "INFLUXDB_V2_URL", "url"))
    org: str = Field("ollama", validation_alias=AliasChoices("OLLAMA_INGEST_ORG", "INFLUXDB_V2_ORG", "org"))
    bucket: str = Field("ollama", validation_alias=AliasChoices(
        "OLLAMA_INGEST_BUCKET", "INFLUXDB_V2_BUCKET", "bucket"))
    token: SecretStr | None = Field(None, validation_alias=AliasChoices(
        "OLLAMA_INGEST_TOKEN", "INFLUXDB_V2_TOKEN", "token"))
    token_file: Path | None = None
    verify_ssl: bool = True
    timeout_s: float = 10.0
    batch_size: int = Field(5000, ge=1)
    flush_interval_s: float = Field(1.0, gt=0)
    unit: str = "ollama.service"
    models_dir: list[Path] = []

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings) -> tuple[PydanticBaseSettingsSource, ...]:
        from pydantic_settings import TomlConfigSettingsSource

        path = os.environ.get("OLLAMA_INGEST_CONFIG", DEFAULT_CONFIG)
        toml = TomlConfigSettingsSource(settings_cls, toml_file=path if Path(path).is_file() else None)
        return (init_settings, env_settings, toml)

    def resolved_token(self) -> str:
        """The token from the setting, a token_file, or a systemd credential; never logged."""
        if self.token is not None:
            return self.token.get_secret_value()
        candidates = [self.token_file] if self.token_file else []
        cred = os.environ.get("CREDENTIALS_DIRECTORY")
        if cred:
            candidates.append(Path(cred) / "influx-token")
        for p in candidates:
            try:
                return p.read_text().strip()
            except OSError:
                continue
        return ""
