"""Screens pushed over the main view: detail, help, seek, kinds."""
