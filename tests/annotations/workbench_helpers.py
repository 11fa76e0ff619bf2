"""Shared set-up for the workbench tests: datasets with members and solutions."""

from tests.factories import MembershipFactory, SolutionFactory, UserFactory


def member(dataset, username, role="annotator"):
    """Return a user who is a member of the dataset."""
    user = UserFactory(username=username)
    MembershipFactory(dataset=dataset, user=user, role=role)
    return user


def solutions(dataset, count, **kwargs):
    """Create `count` solutions in the dataset (oldest first) and return them."""
    return [SolutionFactory(dataset=dataset, **kwargs) for _ in range(count)]
