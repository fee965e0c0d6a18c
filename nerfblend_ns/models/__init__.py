"""Models of the project."""
