"""The admin: every model readable; every change an action or a form that calls a service."""

from annotations.admin import datasets, exports, labels, solutions

__all__ = ["datasets", "exports", "labels", "solutions"]
