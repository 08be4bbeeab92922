#pragma once
// One repo's folder in huggingface_hub's cache (layout in hub.hpp): refs, snapshots, blobs.
#include <filesystem>
#include <optional>
#include <string>

namespace ovllm::hub {

// True for a 40-character lowercase hex string (a git commit as the hub names it).
bool is_commit_hash(const std::string& revision);

// "W/\"abc\"" -> "abc": the ETag header without its weak prefix and quotes.
std::string normalize_etag(std::string etag);

class RepoCache {
  public:
    RepoCache(const std::filesystem::path& cache_dir, const std::string& repo_id);

    const std::filesystem::path& folder() const { return folder_; }
    // The commit a branch or tag points at (refs/<revision>); a commit hash is itself.
    std::optional<std::string> commit_of(const std::string& revision) const;
    // Writes refs/<revision> (nothing for a commit hash).
    void write_ref(const std::string& revision, const std::string& commit) const;

    std::filesystem::path snapshot(const std::string& commit) const;
    std::filesystem::path blob(const std::string& etag) const;
    // Where a download of the blob goes until it is complete (and resumes from).
    std::filesystem::path incomplete_blob(const std::string& etag) const;
    std::filesystem::path lock_file(const std::string& etag) const;

    // snapshots/<commit>/<file> -> a relative symlink to blobs/<etag> (replacing any old one).
    void link_snapshot_file(const std::string& commit, const std::string& file,
                            const std::string& etag) const;

  private:
    std::filesystem::path cache_dir_;
    std::filesystem::path folder_;  // <cache>/models--ORG--NAME
};

// An exclusive flock(2) on a lock file, as huggingface_hub's filelock takes it; released
// when destroyed.
class FileLock {
  public:
    explicit FileLock(const std::filesystem::path& path);
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

  private:
    int fd_ = -1;
};

}  // namespace ovllm::hub
