"""Browser views of the workbench: thin, they call selectors and services and render templates."""
