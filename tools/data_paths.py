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
    """$DISCERN_WEIGHTS/name, else ~/.cache/discern/weights/name (scripts/fetch-weights), else <repo>/weights/name;
    exits with a clear message when absent."""
    env = os.environ.get("DISCERN_WEIGHTS")
    user = env or os.path.join(os.path.expanduser("~"), ".cache", "discern", "weights")
    for folder in (user, os.path.join(REPO, "weights")):
        path = os.path.abspath(os.path.join(folder, name))
        if os.path.isfile(path):
            return path
    sys.exit(f"weights not found: {name} in {user} or {os.path.join(REPO, 'weights')} "
             "(run scripts/fetch-weights --backbones lite0,lite1,lite2, or set DISCERN_WEIGHTS to the folder holding it)")
