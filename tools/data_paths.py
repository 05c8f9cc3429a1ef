"""Where the tools find the shared datasets and the weights (stdlib only): the same rule as the Swift tests
(Tests/DiscernTestSupport/TestEnvironment.swift). Nothing here knows a particular machine."""
import os, sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def datasets(require="cats-and-dogs"):
    """$DISCERN_DATASETS, else <repo>/../shared/datasets; exits with a clear message when `require` is not in it."""
    env = os.environ.get("DISCERN_DATASETS")
    root = os.path.abspath(env or os.path.join(REPO, "..", "shared", "datasets"))
    if not os.path.isdir(os.path.join(root, require)):
        origin = "$DISCERN_DATASETS" if env else "<repo>/../shared/datasets"
        sys.exit(f"datasets not found: no {require}/ in {root} ({origin}); "
                 "set DISCERN_DATASETS to the folder holding it")
    return root


def weight_file(name):
    """$DISCERN_WEIGHTS/name, else <repo>/weights/name; exits with a clear message when absent."""
    folder = os.environ.get("DISCERN_WEIGHTS") or os.path.join(REPO, "weights")
    path = os.path.abspath(os.path.join(folder, name))
    if not os.path.isfile(path):
        sys.exit(f"weights not found: {path} "
                 "(run scripts/fetch-weights, or set DISCERN_WEIGHTS to the folder holding it)")
    return path
