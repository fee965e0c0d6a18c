"""Reading tracked head videos into nerfstudio's data structures."""
