"""prmweb: label the earliest erroneous step of model-written math solutions."""

__version__ = "0.1.0"
__all__ = ("__version__",)
