// DiscernReport: see DESIGN in README.
