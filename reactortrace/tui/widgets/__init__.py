"""The widgets of the main screen, each drawn from the view model."""
