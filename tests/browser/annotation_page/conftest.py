"""Fixtures of the annotation-page browser tests: a tab at the viewport a test is parametrized with."""

import pytest

from tests.browser.annotation_page.support import open_tab


@pytest.fixture
def viewport(request):
    return request.param


@pytest.fixture
def tab(browser, viewport):
    tab = open_tab(browser, viewport)
    yield tab
    tab.context.close()
