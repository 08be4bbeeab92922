#!/usr/bin/env python3
"""The real `ovllm` binary against a fake Hugging Face Hub on loopback (fake_hub.py).

Checks hub names end to end: a cold download into huggingface_hub's cache layout, a second
start without network, resume after a cut connection and after an interrupted run, a wrong
sha256, 401 for a gated repo (and success with HF_TOKEN), 404 naming the repo, one-line
errors naming the URL for a truncated body, a redirect loop and an HTML page, revisions,
GGUF repos, and, with the official huggingface_hub package (scripts/test.sh installs it in
.venv-tools; those tests skip without it), that each reads the other's cache.

Environment: OVLLM_BINARY (the ovllm binary), OVLLM_SHARED_DIR, OVLLM_MODELS_DIR.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
OVLLM = os.environ.get("OVLLM_BINARY", os.path.join(SOURCE, "build", "ovllm"))
SHARED = os.environ.get("OVLLM_SHARED_DIR", os.path.join(os.path.dirname(SOURCE), "shared"))
MODELS = os.environ.get("OVLLM_MODELS_DIR", os.path.join(SOURCE, ".models"))
GOLDEN_LLAMA = os.path.join(SHARED, "golden", "models", "llama")
GOLDEN_TOKENIZER = os.path.join(SHARED, "golden", "tokenizers", "smollm2")
SMOLLM2 = os.path.join(MODELS, "smollm2-135m")

try:
    import huggingface_hub  # noqa: F401  (test tooling only)
    HAVE_HF_HUB = True
except ImportError:
    HAVE_HF_HUB = False


def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def git_sha1_of(path):
    with open(path, "rb") as f:
        data = f.read()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def make_repo(folder, files):
    """files: {name: source path or bytes}."""
    for name, source in files.items():
        target = os.path.join(folder, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if isinstance(source, bytes):
            with open(target, "wb") as f:
                f.write(source)
        else:
            os.symlink(os.path.abspath(source), target)


class FakeHub:
    """fake_hub.py as a child process on a free loopback port."""

    def __init__(self, workdir, repos, gated=(), fault=None, renamed=None):
        self.log_path = os.path.join(workdir, f"hub-{time.monotonic_ns()}.log")
        port_file = self.log_path + ".port"
        argv = [sys.executable, os.path.join(HERE, "fake_hub.py"), "--port-file", port_file,
                "--log", self.log_path]
        for repo_id, folder in repos.items():
            argv += ["--repo", f"{repo_id}={folder}"]
        for repo_id in gated:
            argv += ["--gated", repo_id]
        if fault:
            argv += ["--fault", fault]
        for old, new in (renamed or {}).items():
            argv += ["--renamed", f"{old}={new}"]
        self.process = subprocess.Popen(argv)
        deadline = time.monotonic() + 30
        while not os.path.exists(port_file):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("fake_hub.py did not start")
            time.sleep(0.02)
        with open(port_file) as f:
            self.endpoint = f"http://127.0.0.1:{f.read().strip()}"

    def log(self):
        if not os.path.exists(self.log_path):
            return []
        with open(self.log_path) as f:
            return f.read().splitlines()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


class HubTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ovllm-hub-test-")
        self.cache = os.path.join(self.tmp, "cache")
        self.hubs = []
        self.tiny = os.path.join(self.tmp, "repos", "tiny")
        # A small repo: the golden tiny llama, SmolLM2's tokenizer, and files ovllm must skip.
        make_repo(self.tiny, {
            "config.json": os.path.join(GOLDEN_LLAMA, "config.json"),
            "generation_config.json": os.path.join(GOLDEN_LLAMA, "generation_config.json"),
            "model.safetensors": os.path.join(GOLDEN_LLAMA, "model.safetensors"),
            "tokenizer.json": os.path.join(GOLDEN_TOKENIZER, "tokenizer.json"),
            "tokenizer_config.json": os.path.join(GOLDEN_TOKENIZER, "tokenizer_config.json"),
            "chat_template.jinja": os.path.join(GOLDEN_TOKENIZER, "chat_template.jinja"),
            "pytorch_model.bin": b"\x80\x02 a pickle that must not be downloaded" * 100,
            "onnx/model.onnx": b"onnx bytes that must not be downloaded",
            "README.md": b"# tiny\n",
        })

    def tearDown(self):
        for hub in self.hubs:
            hub.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start_hub(self, repos=None, **kwargs):
        hub = FakeHub(self.tmp, repos or {"test/tiny": self.tiny}, **kwargs)
        self.hubs.append(hub)
        return hub

    def ovllm(self, args, hub=None, env=None, timeout=600):
        environment = {k: v for k, v in os.environ.items()
                       if not k.startswith(("HF_", "HUGGING"))}
        environment.update({"HF_HUB_CACHE": self.cache, "HOME": self.tmp})
        environment["HF_ENDPOINT"] = hub.endpoint if hub else "http://127.0.0.1:9"
        environment.update(env or {})
        return subprocess.run([OVLLM] + args, capture_output=True, text=True, env=environment,
                              timeout=timeout)

    def storage(self, repo_id="test/tiny"):
        return os.path.join(self.cache, "models--" + repo_id.replace("/", "--"))

    def commit(self, repo_id="test/tiny"):
        with open(os.path.join(self.storage(repo_id), "refs", "main")) as f:
            return f.read()

    def snapshot_files(self, repo_id="test/tiny"):
        found = []
        snapshots = os.path.join(self.storage(repo_id), "snapshots")
        for root, _, names in os.walk(snapshots):
            found += [os.path.relpath(os.path.join(root, n), snapshots) for n in names]
        return sorted(found)

    def assert_one_line_error(self, run, *needles):
        self.assertNotEqual(run.returncode, 0, run.stderr)
        errors = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
        self.assertEqual(len(errors), 1, run.stderr)
        for needle in needles:
            self.assertIn(needle, errors[0])
        return errors[0]

    def assert_no_incomplete(self, repo_id="test/tiny"):
        blobs = os.path.join(self.storage(repo_id), "blobs")
        leftovers = [n for n in os.listdir(blobs) if n.endswith(".incomplete")] \
            if os.path.isdir(blobs) else []
        self.assertEqual(leftovers, [])


class DownloadTest(HubTestCase):
    WANTED = ["chat_template.jinja", "config.json", "generation_config.json",
              "model.safetensors", "tokenizer.json", "tokenizer_config.json"]

    def test_cold_download_writes_the_hf_cache_layout(self):
        hub = self.start_hub()
        run = self.ovllm(["download", "test/tiny"], hub)
        self.assertEqual(run.returncode, 0, run.stderr)
        commit = self.commit()
        self.assertRegex(commit, r"^[0-9a-f]{40}$")
        snapshot = os.path.join(self.storage(), "snapshots", commit)
        self.assertEqual(run.stdout.strip(), snapshot)
        # Only what ovllm loads: no .bin duplicate, no sub-folder, no README.
        self.assertEqual(self.snapshot_files(), [os.path.join(commit, n) for n in self.WANTED])
        for name in self.WANTED:
            link = os.path.join(snapshot, name)
            source = os.path.join(self.tiny, name)
            # LFS files are named by their sha256, the others by their git blob sha1.
            etag = sha256_of(source) if name.endswith(".safetensors") else git_sha1_of(source)
            self.assertTrue(os.path.islink(link), name)
            self.assertEqual(os.readlink(link), os.path.join("..", "..", "blobs", etag))
            with open(link, "rb") as got, open(source, "rb") as want:
                self.assertEqual(got.read(), want.read(), name)
        self.assert_no_incomplete()
        self.assertTrue(any("/cdn/" in line for line in hub.log()), "LFS file not via the CDN")

    def test_second_start_touches_no_network(self):
        hub = self.start_hub()
        first = self.ovllm(["download", "test/tiny"], hub)
        self.assertEqual(first.returncode, 0, first.stderr)
        requests = len(hub.log())
        again = self.ovllm(["download", "test/tiny"], hub)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(len(hub.log()), requests, "the cached model asked the hub")
        hub.stop()
        for env in ({}, {"HF_HUB_OFFLINE": "1"}):
            run = self.ovllm(["download", "test/tiny"], hub, env)
            self.assertEqual(run.returncode, 0, run.stderr)
            self.assertEqual(run.stdout, first.stdout)

    def test_offline_names_the_missing_files(self):
        run = self.ovllm(["download", "test/tiny"], env={"HF_HUB_OFFLINE": "1"})
        self.assert_one_line_error(run, "HF_HUB_OFFLINE", "test/tiny", "refs/main")
        hub = self.start_hub()
        self.assertEqual(self.ovllm(["download", "test/tiny"], hub).returncode, 0)
        snapshot = os.path.join(self.storage(), "snapshots", self.commit())
        os.remove(os.path.join(snapshot, "config.json"))
        os.remove(os.path.join(snapshot, "tokenizer.json"))
        os.remove(os.path.join(snapshot, "tokenizer_config.json"))
        run = self.ovllm(["download", "test/tiny"], hub, {"HF_HUB_OFFLINE": "1"})
        self.assert_one_line_error(run, "HF_HUB_OFFLINE", "missing config.json")
        run = self.ovllm(["download", "test/tiny", "--tokenizer-only"], hub,
                         {"HF_HUB_OFFLINE": "1"})
        self.assert_one_line_error(run, "HF_HUB_OFFLINE", "missing tokenizer.json")
        # Online, only the missing files are asked for, and their blobs are still there.
        before = len(hub.log())
        self.assertEqual(self.ovllm(["download", "test/tiny"], hub).returncode, 0)
        asked = [l.split()[1] for l in hub.log()[before:] if "/resolve/" in l]
        self.assertEqual(sorted(p.rsplit("/", 1)[1] for p in asked),
                         ["config.json", "tokenizer.json", "tokenizer_config.json"], asked)
        self.assertFalse(any(l.startswith("GET") for l in hub.log()[before + 1:]))

    def test_resume_after_a_cut_connection(self):
        hub = self.start_hub(fault="cut")
        run = self.ovllm(["download", "test/tiny"], hub)
        self.assertEqual(run.returncode, 0, run.stderr)
        log = hub.log()
        cut = [l for l in log if l.startswith("CUT model.safetensors")]
        self.assertEqual(len(cut), 1, log)
        offset = int(cut[0].split()[3])
        self.assertTrue(any(f"range=bytes={offset}-" in l for l in log), log)
        snapshot = os.path.join(self.storage(), "snapshots", self.commit())
        self.assertEqual(sha256_of(os.path.join(snapshot, "model.safetensors")),
                         sha256_of(os.path.join(self.tiny, "model.safetensors")))
        self.assert_no_incomplete()

    def test_resume_of_an_interrupted_run(self):
        source = os.path.join(self.tiny, "model.safetensors")
        etag = sha256_of(source)
        blobs = os.path.join(self.storage(), "blobs")
        os.makedirs(blobs)
        with open(source, "rb") as f:
            data = f.read()
        half = len(data) // 2
        with open(os.path.join(blobs, etag + ".incomplete"), "wb") as f:
            f.write(data[:half])
        hub = self.start_hub()
        run = self.ovllm(["download", "test/tiny"], hub)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertTrue(any(f"range=bytes={half}-" in l for l in hub.log()), hub.log())
        with open(os.path.join(blobs, etag), "rb") as f:
            self.assertEqual(f.read(), data)
        self.assert_no_incomplete()

    def test_wrong_sha256_leaves_nothing_in_snapshots(self):
        hub = self.start_hub(fault="wrong-sha")
        run = self.ovllm(["download", "test/tiny"], hub)
        self.assert_one_line_error(run, "sha256", "model.safetensors", hub.endpoint + "/cdn/")
        self.assertEqual(self.snapshot_files(), [])
        self.assert_no_incomplete()

    def test_gated_repo_needs_a_token(self):
        hub = self.start_hub(gated=["test/tiny"])
        run = self.ovllm(["download", "test/tiny"], hub)
        self.assert_one_line_error(run, "401", "test/tiny", "HF_TOKEN")
        ok = self.ovllm(["download", "test/tiny"], hub, {"HF_TOKEN": "hf_test_token"})
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertTrue(all(l.endswith("auth=yes") for l in hub.log()[1:]), hub.log())

    def test_token_file_of_hf_auth_login(self):
        hub = self.start_hub(gated=["test/tiny"])
        hf_home = os.path.join(self.tmp, "hf-home")
        os.makedirs(hf_home)
        with open(os.path.join(hf_home, "token"), "w") as f:
            f.write("hf_test_token\n")
        run = self.ovllm(["download", "test/tiny"], hub, {"HF_HOME": hf_home})
        self.assertEqual(run.returncode, 0, run.stderr)

    def test_unknown_repo_is_a_404_naming_it(self):
        hub = self.start_hub()
        run = self.ovllm(["download", "test/no-such-model"], hub)
        self.assert_one_line_error(run, "test/no-such-model", "404")

    def test_bad_downloads_are_one_line_errors_naming_the_url(self):
        for fault, needle in (("truncated", "truncated"), ("redirect-loop", "redirect"),
                              ("html", "HTML")):
            with self.subTest(fault=fault):
                hub = self.start_hub(fault=fault)
                run = self.ovllm(["download", "test/tiny"], hub)
                self.assert_one_line_error(run, needle, hub.endpoint + "/cdn/")
                self.assertEqual(self.snapshot_files(), [])
                hub.stop()

    def test_revisions_branch_tag_commit(self):
        hub = self.start_hub()
        run = self.ovllm(["download", "test/tiny", "--revision", "v1.0"], hub)
        self.assertEqual(run.returncode, 0, run.stderr)
        with open(os.path.join(self.storage(), "refs", "v1.0")) as f:
            commit = f.read()
        by_commit = self.ovllm(["download", "test/tiny", "--revision", commit], hub)
        self.assertEqual(by_commit.stdout, run.stdout)
        self.assertEqual(sorted(os.listdir(os.path.join(self.storage(), "refs"))), ["v1.0"])
        bad = self.ovllm(["download", "test/tiny", "--revision", "no-such-branch"], hub)
        self.assert_one_line_error(bad, "test/tiny", "no-such-branch", "404")

    def test_renamed_repo_follows_the_relative_redirect(self):
        hub = self.start_hub(renamed={"old-org/tiny": "test/tiny"})
        run = self.ovllm(["download", "old-org/tiny"], hub)
        self.assertEqual(run.returncode, 0, run.stderr)
        # Cached under the name asked for, as huggingface_hub does.
        self.assertEqual(len(self.snapshot_files("old-org/tiny")), len(self.WANTED))

    def test_info_with_a_hub_name(self):
        hub = self.start_hub()
        run = self.ovllm(["info", "test/tiny"], hub)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("model: test/tiny", run.stdout)
        self.assertIn("LlamaForCausalLM", run.stdout)

    def test_tokenize_with_a_hub_name_matches_the_local_folder(self):
        hub = self.start_hub()
        text = "Hello, world! Tokenizers from the hub."
        remote = self.ovllm(["tokenize", "--model", "test/tiny", text], hub)
        self.assertEqual(remote.returncode, 0, remote.stderr)
        local = self.ovllm(["tokenize", "--model", GOLDEN_TOKENIZER, text])
        self.assertEqual(remote.stdout, local.stdout)
        # `tokenize` needs no weights: none were fetched.
        self.assertFalse(any("/cdn/" in line for line in hub.log()))


class RepoKindTest(HubTestCase):
    def test_gguf_repo_by_quant_tag_and_file(self):
        folder = os.path.join(self.tmp, "repos", "tiny-gguf")
        make_repo(folder, {name: b"GGUF" + name.encode() * 50 for name in (
            "tiny-Q4_K_M.gguf", "tiny-Q8_0.gguf", "mmproj-tiny-f16.gguf")})
        hub = self.start_hub({"test/tiny-GGUF": folder})
        for args, want in ((["test/tiny-GGUF:Q8_0"], "tiny-Q8_0.gguf"),
                           (["test/tiny-GGUF:q4_k_m"], "tiny-Q4_K_M.gguf"),
                           (["test/tiny-GGUF", "--gguf-file", "tiny-Q8_0.gguf"], "tiny-Q8_0.gguf"),
                           (["test/tiny-GGUF"], "tiny-Q4_K_M.gguf")):
            with self.subTest(args=args):
                run = self.ovllm(["download"] + args, hub)
                self.assertEqual(run.returncode, 0, run.stderr)
                self.assertEqual(os.path.basename(run.stdout.strip()), want)
        files = [os.path.basename(f) for f in self.snapshot_files("test/tiny-GGUF")]
        self.assertNotIn("mmproj-tiny-f16.gguf", files)
        bad = self.ovllm(["download", "test/tiny-GGUF:Q2_K"], hub)
        self.assert_one_line_error(bad, "Q2_K", "tiny-Q4_K_M.gguf", "tiny-Q8_0.gguf")

    def test_ir_repo_takes_the_ir_files(self):
        folder = os.path.join(self.tmp, "repos", "tiny-ov")
        make_repo(folder, {
            "config.json": os.path.join(GOLDEN_LLAMA, "config.json"),
            "tokenizer.json": os.path.join(GOLDEN_TOKENIZER, "tokenizer.json"),
            "openvino_model.xml": b"<net/>", "openvino_model.bin": b"\0" * 64,
            "openvino_tokenizer.xml": b"<net/>", "openvino_tokenizer.bin": b"\0" * 8,
            "openvino_config.json": b"{}", "model.safetensors": b"\0" * 16,
        })
        hub = self.start_hub({"test/tiny-ov": folder})
        run = self.ovllm(["download", "test/tiny-ov"], hub)
        self.assertEqual(run.returncode, 0, run.stderr)
        files = sorted(os.path.basename(f) for f in self.snapshot_files("test/tiny-ov"))
        self.assertEqual(files, ["config.json", "openvino_config.json", "openvino_model.bin",
                                 "openvino_model.xml", "openvino_tokenizer.bin",
                                 "openvino_tokenizer.xml", "tokenizer.json"])

    def test_repo_without_loadable_weights(self):
        folder = os.path.join(self.tmp, "repos", "bin-only")
        make_repo(folder, {"config.json": b"{}", "pytorch_model.bin": b"\0" * 16})
        hub = self.start_hub({"test/bin-only": folder})
        run = self.ovllm(["download", "test/bin-only"], hub)
        self.assert_one_line_error(run, "test/bin-only", "*.bin", "safetensors")


@unittest.skipUnless(HAVE_HF_HUB, "huggingface_hub is not installed (scripts/test.sh installs it)")
class HuggingfaceHubInteropTest(HubTestCase):
    def python(self, code, hub, env=None):
        environment = dict(os.environ, HF_HUB_CACHE=self.cache, HF_ENDPOINT=hub.endpoint,
                           HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_XET="1",
                           HF_HUB_DISABLE_PROGRESS_BARS="1", **(env or {}))
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=environment, timeout=300)
        self.assertEqual(run.returncode, 0, run.stderr)
        return run.stdout.strip()

    def test_huggingface_hub_reads_the_cache_ovllm_wrote(self):
        hub = self.start_hub()
        run = self.ovllm(["download", "test/tiny"], hub)
        self.assertEqual(run.returncode, 0, run.stderr)
        hub.stop()
        out = self.python(
            "import huggingface_hub as h\n"
            "p = h.snapshot_download('test/tiny', local_files_only=True)\n"
            "f = h.hf_hub_download('test/tiny', 'model.safetensors', local_files_only=True)\n"
            "info = h.scan_cache_dir()\n"
            "assert not info.warnings, info.warnings\n"
            "repo = next(iter(info.repos))\n"
            "print(p); print(f); print(repo.repo_id, len(repo.revisions))\n", hub)
        snapshot, weights, scan = out.splitlines()
        self.assertEqual(snapshot, run.stdout.strip())
        self.assertEqual(weights, os.path.join(snapshot, "model.safetensors"))
        self.assertEqual(scan, "test/tiny 1")

    def test_ovllm_reads_the_cache_huggingface_hub_wrote(self):
        hub = self.start_hub()
        path = self.python("import huggingface_hub as h\n"
                           "print(h.snapshot_download('test/tiny'))\n", hub)
        hub.stop()
        run = self.ovllm(["download", "test/tiny"], hub, {"HF_HUB_OFFLINE": "1"})
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.stdout.strip(), path)


@unittest.skipUnless(os.path.isfile(os.path.join(SMOLLM2, "model.safetensors")),
                     "SmolLM2-135M is not in OVLLM_MODELS_DIR (scripts/test.sh fetches it)")
class GenerateEndToEndTest(HubTestCase):
    def test_generate_downloads_then_runs_offline(self):
        folder = os.path.join(self.tmp, "repos", "smollm2")
        make_repo(folder, {name: os.path.join(SMOLLM2, name) for name in os.listdir(SMOLLM2)
                           if not name.startswith(".")})
        hub = self.start_hub({"HuggingFaceTB/SmolLM2-135M": folder})
        args = ["generate", "--model", "HuggingFaceTB/SmolLM2-135M", "--prompt",
                "The capital of France is", "--max-tokens", "8", "--dtype", "f32"]
        online = self.ovllm(args, hub, {"OVLLM_DISABLE_IR_CACHE": "1"})
        self.assertEqual(online.returncode, 0, online.stderr)
        self.assertTrue(online.stdout.strip())
        hub.stop()
        offline = self.ovllm(args, hub, {"HF_HUB_OFFLINE": "1", "OVLLM_DISABLE_IR_CACHE": "1"})
        self.assertEqual(offline.returncode, 0, offline.stderr)
        self.assertEqual(offline.stdout, online.stdout)
        # The same text as from the local folder itself.
        local = self.ovllm(["generate", "--model", SMOLLM2] + args[3:],
                           env={"OVLLM_DISABLE_IR_CACHE": "1"})
        self.assertEqual(local.stdout, online.stdout)

    @unittest.skipUnless(os.path.isfile(SMOLLM2 + ".gguf"), "no smollm2-135m.gguf")
    def test_generate_with_a_gguf_quant_tag_and_a_hub_tokenizer(self):
        gguf = os.path.join(self.tmp, "repos", "smollm2-gguf")
        make_repo(gguf, {"SmolLM2-135M-Q8_0.gguf": SMOLLM2 + ".gguf",
                         "SmolLM2-135M-f16.gguf": b"GGUF not this one"})
        tokenizer = os.path.join(self.tmp, "repos", "smollm2-tokenizer")
        make_repo(tokenizer, {name: os.path.join(SMOLLM2, name) for name in
                              ("config.json", "tokenizer.json", "tokenizer_config.json")})
        hub = self.start_hub({"test/SmolLM2-135M-GGUF": gguf, "test/SmolLM2-135M": tokenizer})
        tail = ["--prompt", "The capital of France is", "--max-tokens", "8", "--dtype", "f32"]
        remote = self.ovllm(["generate", "--model", "test/SmolLM2-135M-GGUF:Q8_0",
                             "--tokenizer", "test/SmolLM2-135M"] + tail, hub)
        self.assertEqual(remote.returncode, 0, remote.stderr)
        local = self.ovllm(["generate", "--model", SMOLLM2 + ".gguf", "--tokenizer", SMOLLM2]
                           + tail)
        self.assertEqual(local.returncode, 0, local.stderr)
        self.assertEqual(remote.stdout, local.stdout)
        self.assertFalse(any("f16.gguf" in line for line in hub.log()))


if __name__ == "__main__":
    unittest.main()
