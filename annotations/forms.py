"""Browser forms of the workbench: login (throttled), the annotation form, the "my work" filters.

Forms only check types and shapes; the services decide what the protocol allows and name the field.
"""

import math
import re
from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxValueValidator
from django.http import HttpRequest

from annotations.critique import MAX_STEP_NOTE_CHARS
from annotations.models import Dataset, SolutionStatus
from annotations.selectors.my_work import MyLabel, MyWorkFilters
from annotations.services.annotations import MAX_RATIONALE_CHARS, AnnotationInput
from annotations.services.login_attempts import login_failure_window_seconds, login_is_locked

YES_NO_ANY = [("", "Any"), ("yes", "Yes"), ("no", "No")]
MY_LABELS = [("", "Any"), (MyLabel.ALL_CORRECT.value, "All correct"), (MyLabel.WRONG_STEP.value, "A wrong step")]
SHOWN_STATUSES = [("", "Any"), *SolutionStatus.choices]
STEP_NOTE_FIELD = re.compile(r"^step_note_(\d{1,6})$")


def step_note_field(index: int) -> str:
    """Return the name of the form field of the note on a step (0-based index)."""
    return f"step_note_{index}"


def client_address(request: HttpRequest | None) -> str:
    """Return the client's address as the server saw it (proxies must set REMOTE_ADDR correctly)."""
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's login form that says so when a username+address is locked after too many failures.

    The counting itself happens in `annotations.auth_backends.ThrottledModelBackend`, so the admin's login
    is throttled too; this form only turns the refusal into a clear message before any password check.
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed login attempts for this username. Try again in %(minutes)d minutes.",
    }

    def clean(self) -> dict[str, Any]:
        username = str(self.cleaned_data.get("username") or "")
        address = client_address(self.request)
        if username and login_is_locked(username=username, address=address):
            raise forms.ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": max(login_failure_window_seconds() // 60, 1)},
            )
        return super().clean()


class AnnotationForm(forms.Form):
    """The label of one solution: earliest wrong step (-1 = all correct), rationale, flags, time spent.

    Optional critique fields: `error_type` (a slug of the dataset's error types) and `step_note_<index>`
    (a short note on another step, 0-based index, one field per step; blank ones are ignored). A note on
    the marked step is refused here in the page's step numbers; the service checks the rest.
    """

    earliest_error_step = forms.IntegerField(
        min_value=-1,
        error_messages={"required": "Mark the earliest wrong step, or mark all steps correct."},
    )
    rationale = forms.CharField(required=False, max_length=MAX_RATIONALE_CHARS, strip=True)
    error_type = forms.CharField(required=False, strip=True)
    flag_ambiguous = forms.BooleanField(required=False, label="The problem is ambiguous")
    flag_reference_wrong = forms.BooleanField(required=False, label="The reference answer looks wrong")
    flag_unsure = forms.BooleanField(required=False, label="I am unsure")
    seconds_spent = forms.FloatField(required=False, widget=forms.HiddenInput)
    confirm_all_correct = forms.BooleanField(
        required=False, label="I checked: every step is correct even though the final answer is known to be wrong"
    )

    def __init__(self, *args: Any, num_steps: int | None, **kwargs: Any) -> None:
        """Add the step fields; `num_steps=None` (solution not read yet): a field per posted note, no range check."""
        super().__init__(*args, **kwargs)
        if num_steps is None:
            posted = (STEP_NOTE_FIELD.match(name) for name in self.data)
            indexes: Iterable[int] = sorted({int(found[1]) for found in posted if found})
        else:
            self.fields["earliest_error_step"].validators.append(
                MaxValueValidator(
                    num_steps - 1, message=f"This solution has {num_steps} steps: at most {num_steps - 1}."
                )
            )
            indexes = range(num_steps)
        for index in indexes:
            self.fields[step_note_field(index)] = forms.CharField(
                required=False, max_length=MAX_STEP_NOTE_CHARS, strip=True, label=f"Note on step {index + 1}"
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        marked = cleaned.get("earliest_error_step")
        if isinstance(marked, int) and marked >= 0 and cleaned.get(step_note_field(marked)):
            self.add_error(
                step_note_field(marked),
                f"Step {marked + 1} is the step you marked as the earliest error: say why it is wrong in its "
                "explanation, not in a note (or clear the note).",
            )
        return cleaned

    def clean_seconds_spent(self) -> float | None:
        value = self.cleaned_data.get("seconds_spent")
        if value is None or not math.isfinite(value):
            return None
        return float(value)

    def step_notes(self) -> dict[int, str]:
        """Return the posted notes on steps, blank ones dropped; a note on no step goes on to the service."""
        notes = {}
        for name in self.data:
            match = STEP_NOTE_FIELD.match(name)
            value = self.cleaned_data.get(name) if name in self.fields else self.data.get(name)
            if match and (note := str(value or "").strip()):
                notes[int(match.group(1))] = note
        return notes

    def to_input(self) -> AnnotationInput:
        """Return the cleaned form as the service's input."""
        data = self.cleaned_data
        return AnnotationInput(
            earliest_error_step=data["earliest_error_step"],
            rationale=data.get("rationale") or "",
            error_type=data.get("error_type") or None,
            step_notes=self.step_notes(),
            flag_ambiguous=bool(data.get("flag_ambiguous")),
            flag_reference_wrong=bool(data.get("flag_reference_wrong")),
            flag_unsure=bool(data.get("flag_unsure")),
            seconds_spent=data.get("seconds_spent"),
            confirm_all_correct=bool(data.get("confirm_all_correct")),
        )


class MyWorkFilterForm(forms.Form):
    """Filters of the "my work" list (all optional). `step` is the page's 1-based step number."""

    dataset = forms.ModelChoiceField(queryset=Dataset.objects.none(), required=False, to_field_name="slug")
    label = forms.ChoiceField(choices=MY_LABELS, required=False, label="My label")
    step = forms.IntegerField(required=False, min_value=1, max_value=10_000, label="Step")
    status = forms.ChoiceField(choices=SHOWN_STATUSES, required=False)
    has_rationale = forms.ChoiceField(choices=YES_NO_ANY, required=False, label="Has explanation")
    flagged = forms.ChoiceField(choices=YES_NO_ANY, required=False)
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, datasets: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["dataset"])
        field.queryset = datasets
        field.empty_label = "All my datasets"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "Must be on or after the start date.")
        if cleaned.get("step") and cleaned.get("label") == MyLabel.ALL_CORRECT:
            self.add_error("step", 'A step number means a wrong step: choose "A wrong step" or no step.')
        return cleaned

    def to_filters(self) -> MyWorkFilters:
        """Return the cleaned filters for the selector (call after `is_valid()`)."""
        data = self.cleaned_data
        return MyWorkFilters(
            dataset_id=data["dataset"].pk if data.get("dataset") else None,
            label=MyLabel(data["label"]) if data.get("label") else None,
            step=data["step"] - 1 if data.get("step") else None,
            status=data.get("status") or None,
            has_rationale=yes_no(data.get("has_rationale")),
            flagged=yes_no(data.get("flagged")),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


def yes_no(value: str | None) -> bool | None:
    """Return True for "yes", False for "no", None for anything else ("any")."""
    return {"yes": True, "no": False}.get(value or "")
