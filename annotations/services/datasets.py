"""Create and change datasets (labelling projects) and their protocol settings."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction

from annotations.models import Dataset, DatasetMembership, MembershipRole
from annotations.validators import scoring_methods_errors
from prmweb.errors import ApplicationError

# Fields a client may set; everything else on Dataset is managed by the app.
DATASET_SETTINGS_FIELDS = (
    "name",
    "slug",
    "description",
    "guidelines",
    "annotations_per_solution",
    "max_annotations",
    "agreement_mode",
    "on_max_reached",
    "triage_mode",
    "audit_rate",
    "gold_rate",
    "rationale_required",
    "show_reference",
    "blind",
    "claim_minutes",
    "queue_order",
    "scoring_methods",
)


def _protocol_errors(dataset: Dataset) -> dict[str, list[str]]:
    """Return the cross-field invariants the database also checks, as messages naming the field."""
    errors: dict[str, list[str]] = {}
    if dataset.annotations_per_solution < 1:
        errors["annotations_per_solution"] = ["Ensure this value is at least 1."]
    elif dataset.max_annotations < dataset.annotations_per_solution:
        errors["max_annotations"] = [f"Must be at least annotations_per_solution ({dataset.annotations_per_solution})."]
    for name in ("audit_rate", "gold_rate"):
        if not 0 <= getattr(dataset, name) <= 1:
            errors[name] = ["Must be between 0 and 1."]
    if dataset.claim_minutes < 1:
        errors["claim_minutes"] = ["Ensure this value is at least 1."]
    method_errors = scoring_methods_errors(dataset.scoring_methods)
    if method_errors:
        errors["scoring_methods"] = method_errors
    return errors


def _save(dataset: Dataset) -> None:
    errors = _protocol_errors(dataset)
    if errors:
        field, messages = next(iter(errors.items()))
        raise ApplicationError(f"Invalid dataset settings. {field}: {messages[0]}", errors=errors)
    if Dataset.objects.filter(slug=dataset.slug).exclude(pk=dataset.pk).exists():
        raise _slug_taken(dataset.slug)
    try:
        with transaction.atomic():
            dataset.save()
    except IntegrityError as exc:  # a concurrent request took the slug between the check and the insert
        raise _slug_taken(dataset.slug) from exc


def _reject_unknown(values: dict[str, Any]) -> None:
    unknown = sorted(set(values) - set(DATASET_SETTINGS_FIELDS))
    if unknown:
        raise ApplicationError(
            f"Unknown dataset fields: {', '.join(unknown)}.", errors={name: ["Unknown field."] for name in unknown}
        )


def _slug_taken(slug: str) -> ApplicationError:
    return ApplicationError(
        f"A dataset with the slug {slug!r} already exists.",
        errors={"slug": ["A dataset with this slug already exists."]},
    )


@transaction.atomic
def dataset_create(*, user: AbstractBaseUser | AnonymousUser, **settings: Any) -> Dataset:
    """Create a dataset and make its creator its manager member; return it.

    `settings` holds any of DATASET_SETTINGS_FIELDS (name and slug required). Raises ApplicationError
    naming the field for a taken slug or inconsistent protocol settings; nothing is stored then.
    """
    _reject_unknown(settings)
    creator_id = user.pk if user.is_authenticated else None
    dataset = Dataset(created_by_id=creator_id, **settings)
    _save(dataset)
    if creator_id is not None:
        DatasetMembership.objects.create(dataset=dataset, user_id=creator_id, role=MembershipRole.MANAGER)
    return dataset


@transaction.atomic
def dataset_update(*, dataset: Dataset, **changes: Any) -> Dataset:
    """Change a dataset's name, texts or protocol settings; return it.

    Raises ApplicationError naming the field for unknown fields, a taken slug or inconsistent settings.
    """
    _reject_unknown(changes)
    for name, value in changes.items():
        setattr(dataset, name, value)
    _save(dataset)
    return dataset
