"""Named facts: logic a declarative condition should not hold (image references, users,
secret detection, label selectors).  Model properties call into these modules lazily."""
