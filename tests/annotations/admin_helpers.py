"""The admin's dataset form as a browser posts it, for tests of the add and change pages."""

from typing import Any


def admin_dataset_form(**overrides: Any) -> dict[str, Any]:
    """Return a valid dataset form (no members inline) with `overrides` applied."""
    form: dict[str, Any] = {
        "name": "Admin made",
        "slug": "admin-made",
        "description": "",
        "guidelines": "",
        "annotations_per_solution": "3",
        "max_annotations": "5",
        "agreement_mode": "add_annotators",
        "on_max_reached": "discard",
        "triage_mode": "all",
        "audit_rate": "0.1",
        "gold_rate": "0",
        "show_reference": "on",
        "claim_minutes": "30",
        "queue_order": "oldest_first",
        "segmentation": "paragraphs",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    form.update(overrides)
    return form
