// DiscernRobustness: see DESIGN in README.
