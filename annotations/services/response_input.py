"""Split solutions sent as a response into steps, before validation and storage (pure, no database).

`segment_input` picks the mode (the item's `segmentation`, else the dataset's default), splits the
response with the dataset's `Segmenter` and returns the item with `steps`, `step_offsets` and the mode
filled in, or errors naming `segmentation` or `response`. Items sent as steps, items already split and
responses that are not usable text (which `validate_solution_input` reports) pass through unchanged.
The limits on steps (1 to 200, each at most 20,000 characters) apply afterwards, in validation.
"""

from collections.abc import Sequence
from dataclasses import replace

from annotations import segmentation as segmentation_core
from annotations.segmentation import REFORMAT, SEGMENTATIONS, SegmentationError, Segmenter
from annotations.solution_input import MAX_RESPONSE_CHARS, Errors, SolutionInput


def segmenter_for(*, segmentation: str, pattern: str, default: str | None = None) -> Segmenter:
    """Return the Segmenter of a dataset (its `segmentation` and `segmentation_pattern`).

    `default` replaces the dataset's default mode for items that name none (the import command's
    `--segmentation`).
    """
    timeout = segmentation_core.PATTERN_TIMEOUT_SECONDS  # read per call, so a deployment or test can change it
    return Segmenter(default_mode=default or segmentation, pattern=pattern, timeout=timeout)


def _is_text(response: object) -> bool:
    return isinstance(response, str) and bool(response.strip()) and len(response) <= MAX_RESPONSE_CHARS


def segment_input(item: SolutionInput, segmenter: Segmenter) -> tuple[SolutionInput, Errors]:
    """Return the item split into steps (or unchanged), and the errors that kept it from being split."""
    if item.response is None or item.step_offsets is not None or not _is_text(item.response):
        return item, {}
    mode = item.segmentation if item.segmentation is not None else segmenter.default_mode
    if not isinstance(mode, str) or mode not in SEGMENTATIONS:
        return item, {"segmentation": [f"Must be one of: {', '.join(SEGMENTATIONS)}."]}
    try:
        spans = segmenter.split(item.response, mode)
    except SegmentationError as exc:
        return item, {exc.field: [exc.message]}
    return replace(
        item,
        steps=[item.response[span.start : span.end] for span in spans],
        step_offsets=[(span.start, span.end) for span in spans],
        segmentation=mode,
    ), {}


def segment_inputs(
    items: Sequence[SolutionInput | None], segmenter: Segmenter
) -> tuple[list[SolutionInput | None], dict[str, Errors]]:
    """Split every item that needs it; return the items (same order) and {index: errors} of those that failed."""
    segmented: list[SolutionInput | None] = []
    errors: dict[str, Errors] = {}
    for index, item in enumerate(items):
        if item is None:
            segmented.append(None)
            continue
        result, item_errors = segment_input(item, segmenter)
        segmented.append(result)
        if item_errors:
            errors[str(index)] = item_errors
    return segmented, errors


def waits_for_reformat(item: SolutionInput) -> bool:
    """Return whether the item is stored without steps, for the judge to split (`segmentation: "reformat"`).

    Such an item carries the paragraphs it falls back to as its steps, so that validation checks the limits
    on them; it is stored with none.
    """
    return item.response is not None and item.segmentation == REFORMAT


def stored_steps(item: SolutionInput) -> list[str]:
    """Return the steps stored with the item: none for a response waiting for the judge to split it."""
    return [] if waits_for_reformat(item) else list(item.steps)


def merge_split_errors(value_errors: Errors, split_errors: Errors) -> Errors:
    """Return one item's errors: the value checks, with the errors of its split in place of `response`'s.

    An item that could not be split has no steps to check, so validation's "was not split" is dropped.
    """
    if not split_errors:
        return value_errors
    return {**{name: messages for name, messages in value_errors.items() if name != "response"}, **split_errors}
