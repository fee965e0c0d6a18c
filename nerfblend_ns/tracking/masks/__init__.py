"""Head masks: person segmentation, the chin-line and head-volume rules, and the volumes they project."""
