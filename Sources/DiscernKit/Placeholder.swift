// DiscernKit: see DESIGN in README.
