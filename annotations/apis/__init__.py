"""REST API of the annotations app (DRF): thin views over services and selectors."""
