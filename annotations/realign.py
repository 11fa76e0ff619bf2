"""Cut a response where an LLM's re-split copy of it has its paragraph breaks (pure, no Django).

`segmentation: "reformat"` asks the judge engine to re-split a response into paragraphs. Its reply is
taken only when it holds the same text modulo whitespace and paragraph breaks: the same sequence of
non-whitespace characters (`str.isspace`), so a model may move line breaks and spaces but change, add or
drop nothing else. The steps are then cut from the response itself, never from the reply: a break after
the reply's k-th visible character becomes a step boundary after the response's k-th visible character,
the whitespace between the two becomes the separator, and every step is trimmed as in the other modes.
So each step is still `response[start:end]`, exactly the generated text.
"""

from annotations.segmentation import MAX_EXCERPT_CHARS, SegmentationError, Span, split_between, split_paragraphs


def _visible(text: str) -> list[int]:
    """Return the positions of the non-whitespace characters of text."""
    return [position for position, char in enumerate(text) if not char.isspace()]


def _excerpt(text: str, start: int) -> str:
    """Return up to MAX_EXCERPT_CHARS characters of text from start, whitespace runs shown as one space."""
    words = " ".join(text[start : start + 3 * MAX_EXCERPT_CHARS].split())
    return words[:MAX_EXCERPT_CHARS]


def text_difference(response: str, reformatted: str) -> str | None:
    """Return where the reply's text departs from the response, whitespace aside (None when it does not)."""
    original, copy = _visible(response), _visible(reformatted)
    for here, there in zip(original, copy, strict=False):
        if response[here] != reformatted[there]:
            return (
                f"The reply changes the text at character {here} of the response: "
                f"{_excerpt(response, here)!r} became {_excerpt(reformatted, there)!r}."
            )
    if len(copy) < len(original):
        here = original[len(copy)]
        missing = _excerpt(response, here)
        return f"The reply stops at character {here} of the response; the rest is missing: {missing!r}."
    if len(copy) > len(original):
        return f"The reply adds text after the end of the response: {_excerpt(reformatted, copy[len(original)])!r}."
    return None


def realign_paragraphs(response: str, reformatted: str) -> list[Span]:
    """Return the steps of `response` at the paragraph breaks (blank lines) of `reformatted`, its re-split copy.

    Raise SegmentationError (field `response`) saying where the copy's text differs, whitespace aside.
    """
    if (difference := text_difference(response, reformatted)) is not None:
        raise SegmentationError(difference, field="response")
    visible = _visible(response)
    separators: list[tuple[int, int]] = []
    consumed = 0
    for paragraph in split_paragraphs(reformatted)[:-1]:
        consumed += sum(1 for char in reformatted[paragraph.start : paragraph.end] if not char.isspace())
        separators.append((visible[consumed - 1] + 1, visible[consumed]))
    return split_between(response, separators)
