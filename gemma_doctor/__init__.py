"""gemma-doctor: a pre-flight checker for Gemma 3 fine-tuning setups."""

__version__ = "0.1.0"

# Where the rule pages live (SARIF helpUri, `gemma-doctor rule`): docs/rules/ of the project's repository.
DOCS_URL = "https://github.com/gemma-doctor/gemma-doctor/blob/main/docs/rules"
