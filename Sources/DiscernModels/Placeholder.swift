// DiscernModels: see DESIGN in README.
