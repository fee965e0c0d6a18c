"""Controls that nerfblend adds to nerfstudio's viewer."""
