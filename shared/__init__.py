"""The proactive bot app's shared package: every function folder imports from here."""
