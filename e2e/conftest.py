from e2e.fixtures import *  # noqa: F401,F403 - the fixtures QA teams reuse are ours too
