"""The finance-grade template, built reproducibly by code (one module per sheet)."""

from .build import TEMPLATE_PATH, build_template, template_bytes

__all__ = ["TEMPLATE_PATH", "build_template", "template_bytes"]
