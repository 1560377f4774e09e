"""The bot's app id and password in tests: the identity server issues tokens for exactly these."""

APP_ID = "00000000-0000-0000-0000-0000000b0701"
APP_PASSWORD = "test-client-secret-value"
