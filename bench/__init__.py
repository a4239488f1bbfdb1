"""Scripts that measure speed and size and print figures as ratios against a baseline in the same run."""
