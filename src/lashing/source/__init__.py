"""Sources: turn what the user named into an Image or a directory."""
