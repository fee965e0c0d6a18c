"""Using a trained avatar: loading it, rendering it at chosen expressions and views, meshing it."""
