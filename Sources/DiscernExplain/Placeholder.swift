// DiscernExplain: see DESIGN in README.
