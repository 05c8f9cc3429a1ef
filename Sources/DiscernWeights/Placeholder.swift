// DiscernWeights: see DESIGN in README.
