#!/usr/bin/env python3
"""A Hugging Face Hub stand-in on loopback, for ovllm's hub tests (standard library only).

Serves model folders as hub repos with the endpoints and headers huggingface_hub uses:
  GET  /api/models/ORG/NAME/revision/REV   {"id", "sha", "siblings": [{"rfilename"}], ...}
  GET  /api/models/ORG/NAME/tree/REV[/DIR]  [{"type", "path", "oid", "size", "lfs"?}, ...]
  HEAD|GET /ORG/NAME/resolve/REV/FILE
        regular files: 200 with ETag (the git blob sha1), X-Repo-Commit, Content-Length
        LFS files (*.safetensors, *.bin, *.gguf, ...): 302 to an absolute /cdn/ URL, with
        X-Linked-Etag (the sha256), X-Linked-Size, ETag, X-Repo-Commit
  HEAD|GET /cdn/SHA256/FILE                 the content; Range requests answer 206
REV is "main", the tag "v1.0" or the commit (the sha1 of the repo's file listing).

Faults for tests (--fault), all on /cdn/ downloads:
  cut            the first GET of each file stops halfway and drops the connection
  wrong-sha      one byte of the content is flipped (same size, wrong sha256)
  truncated      200 with a Content-Length and body of half the file
  redirect-loop  /cdn/ redirects to itself
  html           200 with an HTML error page (Content-Type text/html)
A --gated repo answers 401 unless the request has `Authorization: Bearer <--token>`; a
--renamed OLD=NEW repo answers every request with a relative 307 to the same path under NEW.
Every request is appended to --log as "METHOD PATH range=... auth=yes|no".

Usage: fake_hub.py --port-file F --log L --repo ORG/NAME=FOLDER [--gated ORG/NAME] ...
The chosen port is written to --port-file once the server listens.
"""
import argparse
import hashlib
import http.server
import json
import os
import socket
import socketserver
import sys
import threading
import urllib.parse

LFS_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pth", ".pt", ".h5", ".onnx", ".msgpack",
                ".model", ".xml")
TAG = "v1.0"


class Repo:
    def __init__(self, repo_id, folder):
        self.repo_id = repo_id
        self.folder = folder
        self.files = sorted(
            os.path.relpath(os.path.join(root, name), folder)
            for root, _, names in os.walk(folder, followlinks=True) for name in names)
        self.commit = hashlib.sha1(
            (repo_id + "\n" + "\n".join(self.files)).encode()).hexdigest()
        self._meta = {}
        self._lock = threading.Lock()

    def revision_commit(self, revision):
        return self.commit if revision in ("main", TAG, self.commit) else None

    def meta(self, name):
        """(size, git blob sha1, sha256, is_lfs) of one file, computed once."""
        with self._lock:
            if name not in self._meta:
                with open(os.path.join(self.folder, name), "rb") as f:
                    data = f.read()
                git_sha1 = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
                self._meta[name] = (len(data), git_sha1, hashlib.sha256(data).hexdigest(),
                                    name.endswith(LFS_SUFFIXES))
            return self._meta[name]


class Hub:
    def __init__(self, args):
        self.repos = {}
        for spec in args.repo:
            repo_id, folder = spec.split("=", 1)
            self.repos[repo_id] = Repo(repo_id, os.path.abspath(folder))
        self.gated = set(args.gated)
        self.renamed = dict(spec.split("=", 1) for spec in args.renamed)
        self.token = args.token
        self.fault = args.fault
        self.log_path = args.log
        self.cut_done = set()
        self.lock = threading.Lock()
        self.by_sha256 = {}

    def log(self, line):
        if self.log_path:
            with self.lock, open(self.log_path, "a") as f:
                f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hub: Hub = None

    def log_message(self, *args):  # quiet: the request log is --log
        pass

    # ---- plumbing ----
    def send(self, status, body=b"", headers=None, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code, message):
        body = json.dumps({"error": message}).encode()
        self.send(status, body, {"X-Error-Code": code, "X-Error-Message": message})

    def do_HEAD(self):
        self.route()

    def do_GET(self):
        self.route()

    def route(self):
        auth = self.headers.get("Authorization", "")
        self.hub.log(f"{self.command} {self.path} range={self.headers.get('Range', '-')} "
                     f"auth={'yes' if auth else 'no'}")
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        for old, new in self.hub.renamed.items():
            if f"/{old}/" in path:
                location = path.replace(f"/{old}/", f"/{new}/", 1)
                return self.send(307, b"", {"Location": urllib.parse.quote(location)},
                                 "text/plain")
        parts = path.strip("/").split("/")
        if parts[0] == "cdn" and len(parts) >= 3:
            return self.cdn(parts[1])
        if parts[:2] == ["api", "models"] and len(parts) >= 6:
            repo = self.repo("/".join(parts[2:4]), auth)
            if repo and parts[4] == "revision":
                return self.revision_info(repo, "/".join(parts[5:]))
            if repo and parts[4] == "tree":
                return self.tree(repo, parts[5], "/".join(parts[6:]))
            return None if repo is None else self.error(404, "EntryNotFound", "no such route")
        if len(parts) >= 5 and parts[2] == "resolve":
            repo = self.repo("/".join(parts[:2]), auth)
            return repo and self.resolve(repo, parts[3], "/".join(parts[4:]))
        return self.error(404, "EntryNotFound", f"no route {path}")

    def repo(self, repo_id, auth):
        repo = self.hub.repos.get(repo_id)
        if repo is None:
            self.error(404, "RepoNotFound", f"Repository Not Found for url: {self.path}")
            return None
        if repo_id in self.hub.gated and auth != f"Bearer {self.hub.token}":
            self.error(401, "GatedRepo", f"Access to model {repo_id} is restricted.")
            return None
        return repo

    # ---- the hub's API ----
    def revision_info(self, repo, revision):
        commit = repo.revision_commit(revision)
        if commit is None:
            return self.error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        body = {"_id": repo.commit[:24], "id": repo.repo_id, "modelId": repo.repo_id,
                "sha": commit, "private": False, "disabled": False,
                "gated": "manual" if repo.repo_id in self.hub.gated else False,
                "downloads": 0, "likes": 0, "tags": [], "library_name": "transformers",
                "lastModified": "2025-01-01T00:00:00.000Z",
                "createdAt": "2025-01-01T00:00:00.000Z",
                "siblings": [{"rfilename": name} for name in repo.files]}
        self.send(200, json.dumps(body).encode())

    def tree(self, repo, revision, folder):
        if repo.revision_commit(revision) is None:
            return self.error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        entries, dirs = [], set()
        for name in repo.files:
            if folder and not name.startswith(folder + "/"):
                continue
            size, git_sha1, sha256, lfs = repo.meta(name)
            entry = {"type": "file", "oid": git_sha1, "size": size, "path": name}
            if lfs:
                entry["lfs"] = {"oid": sha256, "size": size, "pointerSize": 134}
            entries.append(entry)
            parent = os.path.dirname(name)
            while parent and parent != folder:
                dirs.add(parent)
                parent = os.path.dirname(parent)
        entries += [{"type": "directory", "oid": "0" * 40, "size": 0, "path": d}
                    for d in sorted(dirs)]
        self.send(200, json.dumps(entries).encode())

    def resolve(self, repo, revision, name):
        commit = repo.revision_commit(revision)
        if commit is None:
            return self.error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        if name not in repo.files:
            return self.error(404, "EntryNotFound", f"{name} does not exist on {revision}")
        size, git_sha1, sha256, lfs = repo.meta(name)
        headers = {"X-Repo-Commit": commit, "Accept-Ranges": "bytes"}
        if lfs:
            with self.hub.lock:
                self.hub.by_sha256[sha256] = (repo, name)
            host = self.headers.get("Host")
            headers.update({"ETag": f'"{git_sha1}"', "X-Linked-Etag": f'"{sha256}"',
                            "X-Linked-Size": str(size),
                            "Location": f"http://{host}/cdn/{sha256}/{urllib.parse.quote(name)}"})
            return self.send(302, b"", headers, "text/plain")
        headers["ETag"] = f'"{git_sha1}"'
        self.send_file(repo, name, size, headers)

    # ---- the CDN ----
    def cdn(self, sha256):
        with self.hub.lock:
            found = self.hub.by_sha256.get(sha256)
        if found is None:
            return self.error(404, "EntryNotFound", "no such blob")
        repo, name = found
        size = repo.meta(name)[0]
        fault = self.hub.fault
        if fault == "redirect-loop":
            host = self.headers.get("Host")
            return self.send(302, b"", {"Location": f"http://{host}{self.path}"}, "text/plain")
        if fault == "html":
            page = b"<!DOCTYPE html><html><body><h1>503 Service Unavailable</h1></body></html>"
            return self.send(200, page, {}, "text/html; charset=utf-8")
        self.send_file(repo, name, size, {"ETag": f'"{sha256}"', "Accept-Ranges": "bytes"},
                       fault=fault)

    def send_file(self, repo, name, size, headers, fault=None):
        with open(os.path.join(repo.folder, name), "rb") as f:
            data = f.read()
        if fault == "wrong-sha":
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        start = 0
        range_header = self.headers.get("Range", "")
        if range_header.startswith("bytes=") and range_header.endswith("-"):
            start = int(range_header[len("bytes="):-1])
        status = 206 if start > 0 else 200
        body = data[start:]
        if fault == "truncated":
            status, body = 200, data[: size // 2]
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command == "HEAD":
            return
        cut = False
        if fault == "cut":
            with self.hub.lock:
                cut = name not in self.hub.cut_done
                self.hub.cut_done.add(name)
        if cut:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.hub.log(f"CUT {name} after {len(body) // 2} bytes")
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", action="append", default=[], help="ORG/NAME=FOLDER")
    parser.add_argument("--gated", action="append", default=[], help="ORG/NAME needing --token")
    parser.add_argument("--renamed", action="append", default=[], help="OLD/NAME=NEW/NAME")
    parser.add_argument("--token", default="hf_test_token")
    parser.add_argument("--fault", choices=["cut", "wrong-sha", "truncated", "redirect-loop",
                                            "html"])
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log")
    args = parser.parse_args()
    Handler.hub = Hub(args)
    server = Server(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
