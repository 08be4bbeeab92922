#include "hub/cache.hpp"

#include <algorithm>
#include <fstream>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "util/error.hpp"

namespace ovllm::hub {
namespace fs = std::filesystem;

namespace {

// "ORG/NAME" -> "models--ORG--NAME" (huggingface_hub's repo_folder_name for models).
std::string repo_folder_name(const std::string& repo_id) {
    std::string name = "models--";
    for (const char c : repo_id) {
        if (c == '/') {
            name += "--";
        } else {
            name += c;
        }
    }
    return name;
}

}  // namespace

bool is_commit_hash(const std::string& revision) {
    return revision.size() == 40 && std::all_of(revision.begin(), revision.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

std::string normalize_etag(std::string etag) {
    if (etag.starts_with("W/")) etag.erase(0, 2);
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
        etag = etag.substr(1, etag.size() - 2);
    }
    return etag;
}

RepoCache::RepoCache(const fs::path& cache_dir, const std::string& repo_id)
    : cache_dir_(cache_dir), folder_(cache_dir / repo_folder_name(repo_id)) {}

std::optional<std::string> RepoCache::commit_of(const std::string& revision) const {
    if (is_commit_hash(revision)) return revision;
    std::ifstream in(folder_ / "refs" / revision);
    std::string commit;
    if (!(in >> commit) || !is_commit_hash(commit)) return std::nullopt;
    return commit;
}

void RepoCache::write_ref(const std::string& revision, const std::string& commit) const {
    if (revision == commit) return;
    const fs::path ref = folder_ / "refs" / revision;
    fs::create_directories(ref.parent_path());
    // Written whole then renamed, so a reader never sees half a commit hash.
    const fs::path temporary = ref.string() + ".tmp";
    {
        std::ofstream out(temporary, std::ios::trunc);
        out << commit;
        if (!out) throw_error("{}: cannot write the ref", ref.string());
    }
    fs::rename(temporary, ref);
}

fs::path RepoCache::snapshot(const std::string& commit) const {
    return folder_ / "snapshots" / commit;
}

fs::path RepoCache::blob(const std::string& etag) const {
    return folder_ / "blobs" / etag;
}

fs::path RepoCache::incomplete_blob(const std::string& etag) const {
    return folder_ / "blobs" / (etag + ".incomplete");
}

fs::path RepoCache::lock_file(const std::string& etag) const {
    return cache_dir_ / ".locks" / folder_.filename() / (etag + ".lock");
}

void RepoCache::link_snapshot_file(const std::string& commit, const std::string& file,
                                   const std::string& etag) const {
    const fs::path pointer = snapshot(commit) / file;
    fs::create_directories(pointer.parent_path());
    const fs::path target = fs::relative(blob(etag), pointer.parent_path());
    // A new link under a temporary name replaces the old one in one rename.
    const fs::path temporary = pointer.string() + ".tmp-link";
    std::error_code ignored;
    fs::remove(temporary, ignored);
    fs::create_symlink(target, temporary);
    fs::rename(temporary, pointer);
}

FileLock::FileLock(const fs::path& path) {
    fs::create_directories(path.parent_path());
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw_error("{}: cannot open the lock file", path.string());
    if (::flock(fd_, LOCK_EX) != 0) {
        ::close(fd_);
        throw_error("{}: cannot lock", path.string());
    }
}

FileLock::~FileLock() {
    if (fd_ >= 0) {
        ::flock(fd_, LOCK_UN);
        ::close(fd_);
    }
}

}  // namespace ovllm::hub
