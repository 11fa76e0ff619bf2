from django.apps import AppConfig

from annotations import suggestion_methods


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = "Scoring"

    def ready(self) -> None:
        """Tell annotations which suggestion methods exist: the registry's, read when first asked."""
        suggestion_methods.register_source(suggestion_methods_of_the_registry)


def suggestion_methods_of_the_registry() -> list[suggestion_methods.SuggestionMethod]:
    """Return what annotations needs to know of each method of the registry (which imports every method)."""
    from scoring.methods.registry import METHODS

    return [
        suggestion_methods.SuggestionMethod(
            name=spec.name,
            title=spec.title,
            role=spec.role,
            inputs=spec.inputs,
            rationale_title=spec.rationale_title,
            rationale_open=spec.rationale_open,
            verdict_all_correct=spec.verdict_all_correct,
            verdict_error=spec.verdict_error,
            writes_critiques=spec.writes_critiques,
        )
        for spec in METHODS.values()
    ]
