"""Study mode's rules, apart from Discord and storage: FSRS review scheduling, quiz points, streaks."""
