"""What the tests share: the platform harness and its migrated database templates, the API and
Connect-page helpers, real-process helpers, and the rule for tests whose server is missing.

Fixtures live in the ``conftest.py`` files; this package holds plain code they and the tests
import."""
