// DiscernTraining: see DESIGN in README.
