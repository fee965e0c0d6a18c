"""Image-quality metrics of the project's evaluation protocol."""
