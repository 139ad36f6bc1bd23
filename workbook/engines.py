"""The names of the recalculation backends (kept apart so the command line lists them without loading them)."""

#: The formula backends, the default first.
BACKENDS = ("formualizer", "formulas")
DEFAULT_BACKEND = "formualizer"
#: Backends that can stand in for cells the main backend does not evaluate faithfully.
FALLBACKS = ("libreoffice",)
