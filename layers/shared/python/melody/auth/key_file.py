"""Loading the key material: a file in the local data folder, or a Secrets Manager secret in AWS."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from melody.auth.keys import KeyMaterial, generate_key_material_json, upgrade_key_material_json

if TYPE_CHECKING:
    from melody.core.settings import TokenSettings

_CACHE: dict[tuple[Path | None, str | None], KeyMaterial] = {}


def ensure_local_key_file(path: Path) -> Path:
    """Create the dev key file once (0600); later starts reuse it so tokens survive restarts.

    A file from before the switch to RSA gets a new RSA key in front (same HMAC key, so user ids
    stay the same).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(generate_key_material_json())
        path.chmod(0o600)
    else:
        upgraded = upgrade_key_material_json(path.read_text())
        if upgraded is not None:
            path.write_text(upgraded)
            path.chmod(0o600)
    return path


def load_key_material(settings: TokenSettings) -> KeyMaterial:
    cache_key = (settings.signing_key_file, settings.signing_key_secret_id)
    if cache_key in _CACHE:
        return _CACHE[cache_key]
    if settings.signing_key_file is not None:
        material = KeyMaterial.from_json(Path(settings.signing_key_file).read_text())
    elif settings.signing_key_secret_id:
        from aws_lambda_powertools.utilities import parameters

        document = parameters.get_secret(settings.signing_key_secret_id, max_age=300)
        material = KeyMaterial.from_json(str(document))
    else:
        raise RuntimeError("no signing key configured: set MELODY_SIGNING_KEY_FILE or MELODY_SIGNING_KEY_SECRET_ID")
    _CACHE[cache_key] = material
    return material
