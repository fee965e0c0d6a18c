"""The subcommands of `nerfblend-render`, one module each."""
