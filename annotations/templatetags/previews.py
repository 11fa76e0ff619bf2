"""Template filters for one-line previews of stored text."""

from django import template

from annotations.figures.blocks import without_asy

register = template.Library()


@register.filter
def figure_free(text: str) -> str:
    """Return the text with Asymptote figure code shown as "[figure]" (a preview is no place for code)."""
    return without_asy(text)
