"""Editor accounts, roles, login, API tokens and the account CLI."""
