import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

# Keep every cache the tests use (result cache, fetched sdists) inside the git-ignored
# .cache/ of this checkout, never in the user's ~/.cache.
os.environ.setdefault("SCRUTINY_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".cache" / "scrutiny"))
# The cache key (scrutiny/cache.key under the config directory) stays in the checkout too,
# outside the cache directory, as scrutiny requires.
os.environ.setdefault("XDG_CONFIG_HOME", str(Path(__file__).resolve().parents[1] / ".cache" / "config"))

# Files under fixtures/ and seed/ are code to review, never tests to run: the seed file is
# named test_*.py and imports nova. (The seed is not under fixtures/: a directory of that
# name makes the file a test fixture to the review, which the seed tests would see.)
collect_ignore_glob = ["fixtures/*", "seed/*"]
