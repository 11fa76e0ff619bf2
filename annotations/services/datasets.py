"""Create and change datasets (labelling projects), their protocol settings and their members."""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction

from annotations.critique import error_type_slugs, error_types_errors
from annotations.models import Dataset, DatasetMembership, Export, MembershipRole, Solution
from annotations.selectors.datasets import error_types_in_use
from annotations.validators import scoring_methods_errors, segmentation_errors
from prmweb.errors import ApplicationError, ConflictError, NotFoundError

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
    "gold_feedback",
    "rationale_required",
    "error_types",
    "show_reference",
    "blind",
    "claim_minutes",
    "queue_order",
    "scoring_methods",
    "segmentation",
    "segmentation_pattern",
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
    errors.update(segmentation_errors(dataset.segmentation, dataset.segmentation_pattern))
    if taxonomy_errors := error_types_errors(dataset.error_types):
        errors["error_types"] = taxonomy_errors
    return errors


def removed_error_types_errors(*, dataset: Dataset, taxonomy: Any) -> list[str]:
    """Return why the stored dataset may not take this new taxonomy: it drops slugs that labels still use.

    Compares with the taxonomy stored in the database (an edit form may already have set the new one on
    the instance it passes).
    """
    stored = Dataset.objects.filter(pk=dataset.pk).values_list("error_types", flat=True).first()
    kept = error_type_slugs(taxonomy)
    removed = [slug for slug in error_type_slugs(stored or []) if slug not in kept]
    used = error_types_in_use(dataset=dataset, slugs=removed)
    return [
        f"Error type {slug!r} is used by {count} annotation(s) or final label(s); keep its slug (the title and "
        "key may change)."
        for slug, count in sorted(used.items())
    ]


def _refuse_dropping_used_error_types(dataset: Dataset, taxonomy: Any) -> None:
    if taxonomy is None or error_types_errors(taxonomy):
        return  # no change, or an invalid one that `_save` refuses with its own message
    if in_use := removed_error_types_errors(dataset=dataset, taxonomy=taxonomy):
        raise ApplicationError(f"Invalid dataset settings. error_types: {in_use[0]}", errors={"error_types": in_use})


def _refuse_changing_a_used_slug(dataset: Dataset, slug: Any) -> None:
    """Refuse a new slug once the dataset has solutions or exports: URLs, scripts and export folders name it.

    Compares with the slug stored in the database (an edit form may already have set the new one on the instance).
    """
    stored = Dataset.objects.filter(pk=dataset.pk).values_list("slug", flat=True).first()
    if slug is None or stored is None or slug == stored:
        return
    solutions = Solution.objects.filter(dataset_id=dataset.pk).count()
    exports = Export.objects.filter(dataset_id=dataset.pk).count()
    if solutions or exports:
        reason = (
            f"The slug of dataset {stored!r} cannot change: it has {solutions} solution(s) and {exports} export(s), "
            "and links, scripts and export folders use the slug. Change its name instead."
        )
        raise ConflictError(reason, errors={"slug": [reason]})


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

    Raises ApplicationError naming the field for unknown fields, a taken slug, inconsistent settings, or
    an error-type taxonomy that drops a slug annotations or final labels still use; ConflictError for a new
    slug once the dataset has solutions or exports.
    """
    _reject_unknown(changes)
    _refuse_changing_a_used_slug(dataset, changes.get("slug"))
    _refuse_dropping_used_error_types(dataset, changes.get("error_types"))
    for name, value in changes.items():
        setattr(dataset, name, value)
    _save(dataset)
    return dataset


@dataclass(frozen=True)
class MembershipChange:
    """The membership after `membership_set`, and the role it had before (None: it was just created)."""

    membership: DatasetMembership
    previous_role: str | None

    @property
    def created(self) -> bool:
        return self.previous_role is None


def _lock_dataset(dataset: Dataset) -> None:
    """Serialize membership changes of one dataset (the last-manager rule reads, then writes)."""
    Dataset.objects.select_for_update().filter(pk=dataset.pk).values_list("pk").first()


def _other_managers_exist(dataset: Dataset, membership: DatasetMembership) -> bool:
    return (
        DatasetMembership.objects.filter(dataset=dataset, role=MembershipRole.MANAGER)
        .exclude(pk=membership.pk)
        .exists()
    )


def _last_manager_error(dataset: Dataset, username: str, field: str, verb: str) -> ConflictError:
    message = f"{username!r} is the last manager of dataset {dataset.slug!r} and cannot be {verb}."
    return ConflictError(
        message, errors={field: [f"The last manager cannot be {verb}; make another member manager first."]}
    )


@transaction.atomic
def membership_set(*, dataset: Dataset, username: str, role: str) -> MembershipChange:
    """Give the user with this username the role on the dataset: add them, or change their role.

    Idempotent: setting a member's current role changes nothing. Raises ApplicationError naming
    `username` for a user that does not exist and `role` for an unknown role, and ConflictError (409)
    when it would demote the dataset's last manager; nothing changes then.
    """
    if role not in MembershipRole.values:
        raise ApplicationError(
            f"Unknown role {role!r}.", errors={"role": [f"Choose one of: {', '.join(MembershipRole.values)}."]}
        )
    user = get_user_model()._default_manager.filter(username=username).first() if "\x00" not in username else None
    if user is None:
        raise ApplicationError(
            f"There is no user {username!r}.",
            errors={"username": ["No user with this username; create the account first."]},
        )
    _lock_dataset(dataset)
    membership = DatasetMembership.objects.filter(dataset=dataset, user=user).first()
    if membership is None:
        created = DatasetMembership.objects.create(dataset=dataset, user=user, role=role)
        return MembershipChange(membership=created, previous_role=None)
    previous = membership.role
    if previous == MembershipRole.MANAGER and role != previous and not _other_managers_exist(dataset, membership):
        raise _last_manager_error(dataset, username, "role", f"made {role}")
    if role != previous:
        membership.role = role
        membership.save(update_fields=["role"])
    return MembershipChange(membership=membership, previous_role=previous)


@transaction.atomic
def membership_remove(*, dataset: Dataset, username: str) -> None:
    """Remove the member with this username from the dataset (their annotations stay).

    Raises NotFoundError naming `username` when they are not a member, and ConflictError (409) for the
    dataset's last manager.
    """
    _lock_dataset(dataset)
    membership = (
        DatasetMembership.objects.filter(dataset=dataset, user__username=username).first()
        if "\x00" not in username
        else None
    )
    if membership is None:
        raise NotFoundError(
            f"{username!r} is not a member of dataset {dataset.slug!r}.",
            errors={"username": ["No member with this username."]},
        )
    if membership.role == MembershipRole.MANAGER and not _other_managers_exist(dataset, membership):
        raise _last_manager_error(dataset, username, "username", "removed")
    membership.delete()
