"""API plumbing both apps share: the error body and its mapping, strict serializers, pagination, base views."""
