# Read by `flask` (python-dotenv) when run from a checkout: a developer's machine.
# Variables already set in the environment win, so a deployment sets
# AUDITFLOW_ENV=production and AUDITFLOW_SECRET_KEY itself.
AUDITFLOW_ENV=development
