"""Small reusable pieces of the UI, one per module."""
