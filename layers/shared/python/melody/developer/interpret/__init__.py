"""Natural-language music queries → :class:`~melody.developer.search_schemas.Interpretation`: the
rule-based parser (default, offline) and an optional LLM interpreter that falls back to it."""

__all__: list[str] = []
