"""Development tools: the Slack Web API emulator, request signing, and the offline demo.
Production code never imports this package (a contract in `make test` keeps it so)."""
