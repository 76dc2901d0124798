"""fitbot's presentation layers (CLI, Discord, ``fitbot ask``) and, in ``bot.app``, the composition root."""

__all__: list[str] = []
