"""Data model of the labelling side: datasets, problems, solutions, annotations, suggestions, labels."""

from annotations.models.claims import Claim
from annotations.models.datasets import Dataset, DatasetMembership, MembershipRole
from annotations.models.exports import Export, ExportStatus
from annotations.models.figures import FigureStatus, ProblemFigure
from annotations.models.labels import (
    DERIVED_ENGINE,
    EXTERNAL_ENGINE,
    Annotation,
    CritiqueSource,
    FinalLabel,
    FinalLabelChange,
    FinalLabelSource,
    Suggestion,
    SuggestionStatus,
)
from annotations.models.solutions import Problem, ReformatStatus, Solution, SolutionStatus

__all__ = [
    "DERIVED_ENGINE",
    "EXTERNAL_ENGINE",
    "Annotation",
    "Claim",
    "CritiqueSource",
    "Dataset",
    "DatasetMembership",
    "Export",
    "ExportStatus",
    "FigureStatus",
    "FinalLabel",
    "FinalLabelChange",
    "FinalLabelSource",
    "MembershipRole",
    "Problem",
    "ProblemFigure",
    "ReformatStatus",
    "Solution",
    "SolutionStatus",
    "Suggestion",
    "SuggestionStatus",
]
