// DiscernVision: see DESIGN in README.
