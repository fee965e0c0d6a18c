"""Command-line tools of the plugin."""
