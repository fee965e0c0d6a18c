"""The console commands of the plugin (`nerfblend-process-video`, `nerfblend-render`, `nerfblend-export-mesh`)."""
