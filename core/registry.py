"""The registry: every item plugins registered, by kind and name, with the plugin that provided it.

Built by :func:`roistory.plugin_manager.build_registry`; a light module (no pluggy,
no pandas) so that anything may name the type without importing the plugin machinery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS: dict[str, tuple[str, str]] = {
    # kind: (hook name, attribute holding the item's name)
    "source": ("register_data_sources", "name"),
    "metric": ("register_metrics", "id"),
    "model": ("register_attribution_models", "id"),
    "section": ("register_report_sections", "id"),
    "theme": ("register_themes", "name"),
    "catalog": ("register_translations", "domain"),
    "incrementality": ("register_incrementality_readers", "name"),
    "edition": ("register_editions", "id"),
}


@dataclass
class Registry:
    """Everything registered, by kind then name, in registration order."""

    items: dict[str, dict[str, Any]] = field(default_factory=lambda: {k: {} for k in KINDS})
    providers: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def sources(self) -> dict[str, Any]:
        return self.items["source"]

    @property
    def metrics(self) -> dict[str, Any]:
        return self.items["metric"]

    @property
    def models(self) -> dict[str, Any]:
        return self.items["model"]

    @property
    def sections(self) -> dict[str, Any]:
        return self.items["section"]

    @property
    def themes(self) -> dict[str, Any]:
        return self.items["theme"]

    @property
    def editions(self) -> dict[str, Any]:
        return self.items["edition"]

    @property
    def catalogs(self) -> dict[str, Any]:
        return self.items["catalog"]

    @property
    def incrementality_readers(self) -> dict[str, Any]:
        return self.items["incrementality"]

    def provider(self, kind: str, name: str) -> str:
        return self.providers.get((kind, name), "?")
