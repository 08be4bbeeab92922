"""deploy/kubernetes/*.yaml against the Kubernetes API schemas (kubernetes-validate, strict:
unknown fields fail), plus what the deployment needs from them:

- every manifest validates; a copy with a misspelt field is rejected (the check has teeth);
- the ovllm Deployment probes /health (readiness, liveness, startup), requests CPU and memory,
  mounts the model from a volume and carries Prometheus scrape annotations for /metrics;
- the Service selects the replica pods;
- the vllm-router Deployment uses service discovery with a selector matching those pods, its
  arguments parse with vllm-router's own argument parser, and its ServiceAccount may list
  and watch pods.
"""
import copy
import glob
import os
import subprocess
import sys
import tempfile

import yaml
from vllm_router.launch_router import parse_router_args

FAILURES = []


def check(condition, what):
    if not condition:
        FAILURES.append(what)
    print(("ok: " if condition else "FAIL: ") + what, flush=True)


def validate(paths):
    tool = os.path.join(os.path.dirname(sys.executable), "kubernetes-validate")
    run = subprocess.run([tool, "--strict", "--quiet", *paths], capture_output=True, text=True)
    return run.returncode == 0, run.stdout + run.stderr


def main():
    paths = sorted(glob.glob("deploy/kubernetes/*.yaml"))
    check(len(paths) >= 3, f"manifests found: {paths}")
    ok, output = validate(paths)
    check(ok, "kubernetes-validate --strict accepts every manifest" + ("" if ok else ":\n" + output))

    docs = [d for p in paths for d in yaml.safe_load_all(open(p)) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    deployments = {d["metadata"]["name"]: d for d in by_kind.get("Deployment", [])}
    replica = deployments.get("ovllm")
    router = deployments.get("vllm-router")
    check(replica is not None and router is not None, "ovllm and vllm-router Deployments")
    if replica is None or router is None:
        return finish()

    # A misspelt field must fail strict validation.
    broken = copy.deepcopy(replica)
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(broken, f)
    ok, _ = validate([f.name])
    os.unlink(f.name)
    check(not ok, "a misspelt field (readinesProbe) is rejected")

    pod = replica["spec"]["template"]
    container = pod["spec"]["containers"][0]
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        check(container.get(probe, {}).get("httpGet", {}).get("path") == "/health",
              f"replica {probe} on /health")
    requests = container.get("resources", {}).get("requests", {})
    check("cpu" in requests and "memory" in requests, "replica requests CPU and memory")
    threads = [a for a in container["args"] if a.startswith("--num-threads=")]
    check(threads == [f"--num-threads={requests.get('cpu')}"],
          "--num-threads equals the CPU request")
    annotations = pod["metadata"].get("annotations", {})
    check(annotations.get("prometheus.io/scrape") == "true"
          and annotations.get("prometheus.io/path") == "/metrics",
          "Prometheus scrape annotations for /metrics")
    volumes = {v["name"]: v for v in pod["spec"].get("volumes", [])}
    model_arg = container["args"][1]
    mounted = [m for m in container.get("volumeMounts", [])
               if model_arg.startswith(m["mountPath"] + "/") and m["name"] in volumes]
    check(bool(mounted), f"the model {model_arg} is on a mounted volume")

    labels = pod["metadata"]["labels"]
    services = {s["metadata"]["name"]: s for s in by_kind.get("Service", [])}
    selector = services.get("ovllm", {}).get("spec", {}).get("selector", {})
    check(selector and selector.items() <= labels.items(), "the Service selects the replicas")

    rc = router["spec"]["template"]["spec"]["containers"][0]
    args = parse_router_args([a.replace("$(POD_NAMESPACE)", "default") for a in rc["args"]])
    check(args.service_discovery, "the router uses Kubernetes service discovery")
    check(args.selector and args.selector.items() <= labels.items(),
          f"the router's selector {args.selector} matches the replica pods")
    check(args.service_discovery_port == container["ports"][0]["containerPort"],
          "the router reaches the replicas' serving port")
    rules = [r for role in by_kind.get("Role", []) for r in role["rules"]]
    check(any("pods" in r["resources"] and {"list", "watch"} <= set(r["verbs"]) for r in rules),
          "the router's Role may list and watch pods")
    return finish()


def finish():
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    print("all Kubernetes manifest checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
