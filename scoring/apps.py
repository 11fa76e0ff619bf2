from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = "Scoring"

    def ready(self) -> None:
        """Tell annotations which suggestion methods exist (the registry's)."""
        from annotations import suggestion_methods
        from scoring.methods.registry import METHODS

        suggestion_methods.register(
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
        )
