"""The SCORING_METHOD_NAMES setting (read by annotations to validate datasets) matches the method registry."""

from django.conf import settings

from scoring.methods.registry import METHODS


def test_the_setting_names_exactly_the_registered_methods():
    assert sorted(settings.SCORING_METHOD_NAMES) == sorted(METHODS)
    assert len(set(settings.SCORING_METHOD_NAMES)) == len(settings.SCORING_METHOD_NAMES)
