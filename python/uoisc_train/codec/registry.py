"""Named codec configurations, one JSON file per name (open_clip's ``model_configs`` habit).

``configs/<name>.json`` holds a full :class:`CodecConfig`; the file stem is
the name. The training CLI takes a name or a path plus overrides, and an
exported bundle records the resulting JSON.
"""

from __future__ import annotations

from pathlib import Path

from uoisc_train.codec.config import CodecConfig

__all__ = ["CONFIG_DIR", "list_codec_configs", "get_codec_config"]

#: Folder of the named configurations shipped with the package.
CONFIG_DIR = Path(__file__).with_name("configs")


def list_codec_configs() -> list[str]:
    """Names of the shipped codec configurations, sorted."""
    return sorted(path.stem for path in CONFIG_DIR.glob("*.json"))


def get_codec_config(name_or_path: str | Path) -> CodecConfig:
    """A shipped configuration by name, or any JSON file by path.

    Raises:
        ValueError: unknown name (listing the known ones) or an invalid file.
    """
    path = Path(name_or_path)
    if path.suffix != ".json":
        path = CONFIG_DIR / f"{name_or_path}.json"
        if not path.is_file():
            raise ValueError(f"unknown codec config {str(name_or_path)!r}; "
                             f"known: {list_codec_configs()}")
    try:
        return CodecConfig.from_json(path.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot load codec config {str(path)!r}: {error}") from error
