"""Virtual patient populations."""
