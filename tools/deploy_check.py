#!/usr/bin/env python3
"""Offline checks of deploy/ (no cluster, no Docker engine, no network): run by the Swift tests.

    tools/deploy_check.py manifests [--kubernetes 1.33] FILE_OR_DIR...
        Every YAML document against the Kubernetes API schemas that kubernetes-validate bundles, in strict mode
        (an unknown or misspelled field is an error). KServe's ServingRuntime and InferenceService against
        deploy/schemas/, their containers and metadata against the Kubernetes Pod schema. Then the cross-checks
        the schemas cannot make: an Indexed Job's JOB_COMPLETIONS equals its completions, probes hit the
        Open Inference Protocol health routes, the HPA targets an existing Deployment.
    tools/deploy_check.py dockerfile [--binary DISCERN] DOCKERFILE
        Its stages and base images, COPY sources and RUN scripts that exist in the repository, a non-root USER,
        a HEALTHCHECK on /v2/health/live, runtime packages that exist in Debian's package lists and (with
        --binary) provide every shared library that binary links (the Swift runtime excepted: it is linked
        statically in the image).

One line per problem, naming the file and the place; exit 1 when there is any. Debian's /usr/bin/python3 with
kubernetes-validate (PyPI) and PyYAML, jsonschema (scripts/setup --dev installs them).
"""
import argparse, json, os, re, shlex, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMAS = {("serving.kserve.io/v1beta1", "InferenceService"): "inferenceservice-v1beta1.json",
           ("serving.kserve.io/v1alpha1", "ServingRuntime"): "servingruntime-v1alpha1.json",
           ("serving.kserve.io/v1alpha1", "ClusterServingRuntime"): "servingruntime-v1alpha1.json"}


def yaml_files(paths):
    for path in paths:
        if os.path.isdir(path):
            for base, _, names in sorted(os.walk(path)):
                yield from (os.path.join(base, n) for n in sorted(names) if n.endswith((".yaml", ".yml")))
        else:
            yield path


def where(error):
    return ".".join(str(p) for p in error.absolute_path) or "(top)"


def check_kserve(doc, name, version, problems):
    import jsonschema, kubernetes_validate
    with open(os.path.join(ROOT, "deploy", "schemas", SCHEMAS[(doc.get("apiVersion"), doc.get("kind"))])) as f:
        schema = json.load(f)
    for error in jsonschema.Draft202012Validator(schema).iter_errors(doc):
        problems.append(f"{name}: {where(error)}: {error.message}")
    spec = doc.get("spec") or {}
    containers = spec.get("containers") or (spec.get("predictor") or {}).get("containers")
    # The containers (or a stand-in) and the metadata as a Pod's, so the Kubernetes schema checks them too.
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": doc.get("metadata") or {},
           "spec": {"containers": containers or [{"name": "stand-in", "image": "stand-in"}]}}
    try:
        kubernetes_validate.validate(pod, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        problems.append(f"{name}: {'.'.join(str(p) for p in error.path)}: {error.message} (as a Pod's)")


def containers_of(doc):
    spec = doc.get("spec") or {}
    template = (spec.get("template") or {}).get("spec") or {}
    return template.get("containers") or spec.get("containers") or []


def cross_checks(docs, problems):
    deployments = {d["metadata"]["name"] for _, d in docs if d.get("kind") == "Deployment"}
    shards = {str((d.get("spec") or {}).get("completions")) for _, d in docs
              if d.get("kind") == "Job" and (d.get("spec") or {}).get("completionMode") == "Indexed"}
    for name, doc in docs:
        spec = doc.get("spec") or {}
        if doc.get("kind") == "Job" and spec.get("completionMode", "NonIndexed") not in ("NonIndexed", "Indexed"):
            problems.append(f"{name}: spec.completionMode {spec.get('completionMode')!r} is not NonIndexed or Indexed")
        if doc.get("kind") == "Job" and spec.get("completionMode") != "Indexed":
            # A merge step counts the shards of the Indexed Job: the same number.
            for container in containers_of(doc):
                value = {e["name"]: e.get("value") for e in container.get("env") or []}.get("JOB_COMPLETIONS")
                if value is not None and shards and value not in shards:
                    problems.append(f"{name}: container {container['name']}: JOB_COMPLETIONS {value!r} differs "
                                    f"from the Indexed Job's completions {sorted(shards)}")
        if doc.get("kind") == "Job" and spec.get("completionMode") == "Indexed":
            for container in containers_of(doc):
                env = {e["name"]: e.get("value") for e in container.get("env") or []}
                if env.get("JOB_COMPLETIONS") != str(spec.get("completions")):
                    problems.append(f"{name}: container {container['name']}: JOB_COMPLETIONS "
                                    f"{env.get('JOB_COMPLETIONS')!r} differs from "
                                    f"completions {spec.get('completions')}")
        if doc.get("kind") == "Deployment":
            for container in containers_of(doc):
                probes = {k: ((container.get(k) or {}).get("httpGet") or {}).get("path")
                          for k in ("livenessProbe", "readinessProbe")}
                if probes != {"livenessProbe": "/v2/health/live", "readinessProbe": "/v2/health/ready"}:
                    problems.append(f"{name}: container {container['name']}: probes {probes}, expected "
                                    "liveness /v2/health/live and readiness /v2/health/ready")
        if doc.get("kind") == "HorizontalPodAutoscaler":
            target = spec.get("scaleTargetRef") or {}
            if target.get("kind") == "Deployment" and target.get("name") not in deployments:
                problems.append(f"{name}: scaleTargetRef names Deployment {target.get('name')!r}, "
                                f"which no manifest defines")


def manifests(args):
    import kubernetes_validate, yaml
    problems, docs = [], []
    for path in yaml_files(args.paths):
        try:
            with open(path) as f:
                loaded = [d for d in yaml.safe_load_all(f) if d]
        except (OSError, yaml.YAMLError) as error:
            problems.append(f"{path}: not readable YAML: {error}".replace("\n", " "))
            continue
        if not loaded:
            problems.append(f"{path}: no YAML document")
        for doc in loaded:
            name = f"{os.path.relpath(path, ROOT)}: {doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"
            docs.append((name, doc))
            if (doc.get("apiVersion"), doc.get("kind")) in SCHEMAS:
                check_kserve(doc, name, args.kubernetes, problems)
                continue
            try:
                kubernetes_validate.validate(doc, args.kubernetes, strict=True)
            except kubernetes_validate.ValidationError as error:
                problems.append(f"{name}: {'.'.join(str(p) for p in error.path) or '(top)'}: {error.message}")
            except kubernetes_validate.SchemaNotFoundError:
                problems.append(f"{name}: no schema for {doc.get('apiVersion')} {doc.get('kind')}")
    cross_checks(docs, problems)
    return report(problems, f"{len(docs)} manifests valid against Kubernetes {args.kubernetes} (strict)")


def instructions(path):
    """(instruction, arguments) pairs, continuation lines joined, comments dropped."""
    lines, current = [], ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not current and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.endswith("\\"):
                current += line[:-1] + " "
                continue
            current += line
            word, _, rest = current.strip().partition(" ")
            lines.append((word.upper(), rest.strip()))
            current = ""
    return lines


def dockerfile(args):
    problems, name = [], os.path.relpath(args.dockerfile, ROOT)
    steps = instructions(args.dockerfile)
    known = {"FROM", "RUN", "COPY", "WORKDIR", "USER", "EXPOSE", "HEALTHCHECK", "ENTRYPOINT", "CMD", "ENV", "ARG",
             "LABEL"}
    for word, _ in steps:
        if word not in known:
            problems.append(f"{name}: unknown instruction {word}")
    stages = [rest.split() for word, rest in steps if word == "FROM"]
    images = [s[0] for s in stages]
    if len(stages) < 2 or not re.fullmatch(r"swift:6\.3\.1-bookworm", images[0]) \
            or images[-1] != "debian:bookworm-slim":
        problems.append(f"{name}: expected a swift:6.3.1-bookworm build stage and a debian:bookworm-slim runtime, "
                        f"found {images}")
    stage_names = {s[2] for s in stages if len(s) == 3 and s[1].upper() == "AS"}
    runtime_start = max(i for i, (w, _) in enumerate(steps) if w == "FROM")
    runtime_packages = []
    for index, (word, rest) in enumerate(steps):
        if word == "COPY":
            parts = rest.split()
            sources = parts[:-1]
            if sources and sources[0].startswith("--from="):
                if sources[0][7:] not in stage_names:
                    problems.append(f"{name}: COPY {sources[0]} names no stage ({sorted(stage_names)})")
                continue
            for source in sources:
                if not os.path.exists(os.path.join(ROOT, source)):
                    problems.append(f"{name}: COPY source {source} is not in the repository")
        if word == "RUN":
            for script in re.findall(r"(?:^|[\s;&|])(scripts/[\w.-]+)", rest):
                if not os.access(os.path.join(ROOT, script), os.X_OK):
                    problems.append(f"{name}: RUN uses {script}, which is not an executable in the repository")
            if index > runtime_start and "apt-get install" in rest:
                words = shlex.split(rest.split("apt-get install", 1)[1].split("&&")[0])
                runtime_packages += [w for w in words if not w.startswith("-")]
    users = [rest for word, rest in steps[runtime_start:] if word == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append(f"{name}: the runtime stage must end as a non-root USER (found {users})")
    checks = [rest for word, rest in steps[runtime_start:] if word == "HEALTHCHECK"]
    if not checks or "/v2/health/live" not in checks[-1]:
        problems.append(f"{name}: no HEALTHCHECK on /v2/health/live in the runtime stage")
    for package in runtime_packages:
        shown = subprocess.run(["apt-cache", "show", "--no-all-versions", package], capture_output=True, text=True)
        if shown.returncode != 0 or not shown.stdout.strip():
            problems.append(f"{name}: runtime package {package} is not in Debian's package lists "
                            "(apt-get update first)")
    if args.binary:
        for library, package in linked_packages(args.binary, problems):
            if package not in runtime_packages:
                problems.append(f"{name}: {os.path.basename(args.binary)} links {library} from {package}, "
                                f"which the runtime stage does not install")
    return report(problems, f"{name}: {len(steps)} instructions checked, runtime packages {runtime_packages}")


def linked_packages(binary, problems):
    """(library, Debian package) for each library the binary itself needs (NEEDED; apt brings their own
    dependencies), but libc's, the compiler's and the Swift runtime's."""
    dynamic = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True)
    needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic.stdout))
    out = subprocess.run(["ldd", binary], capture_output=True, text=True)
    if out.returncode != 0:
        problems.append(f"{binary}: ldd failed: {out.stderr.strip()}")
        return []
    found = []
    for line in out.stdout.splitlines():
        match = re.search(r"^\s*(\S+)\s+=>\s+(/\S+)", line)
        if not match or match.group(1) not in needed:
            continue
        library = match.group(2)
        real = os.path.realpath(library)
        if "/swift" in real:   # the toolchain's runtime; the image links it statically
            continue
        owner = subprocess.run(["dpkg", "-S", real], capture_output=True, text=True)
        if owner.returncode != 0:
            owner = subprocess.run(["dpkg", "-S", library], capture_output=True, text=True)
        package = owner.stdout.split(":")[0].strip() if owner.returncode == 0 else None
        if package is None:
            problems.append(f"{binary}: no Debian package owns {library}")
        elif package not in ("libc6", "libgcc-s1", "libstdc++6"):
            found.append((os.path.basename(library), package))
    return found


def report(problems, success):
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(success)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("manifests")
    p.add_argument("--kubernetes", default="1.33")
    p.add_argument("paths", nargs="+")
    p = commands.add_parser("dockerfile"); p.add_argument("--binary"); p.add_argument("dockerfile")
    args = parser.parse_args()
    return manifests(args) if args.command == "manifests" else dockerfile(args)


if __name__ == "__main__":
    sys.exit(main())
