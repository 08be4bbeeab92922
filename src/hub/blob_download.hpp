#pragma once
// One file of a repo into blobs/<etag>: resolved with a HEAD on resolve/<commit>/<file>,
// fetched from where that points (the CDN for LFS files) into blobs/<etag>.incomplete,
// resumed with a Range after a broken connection or an earlier interrupted run, checked
// (size; sha256 for LFS files, whose ETag is their sha256) and only then renamed to the blob.
#include <cstdint>
#include <string>

#include "hub/cache.hpp"
#include "hub/http_client.hpp"

namespace ovllm::hub {

// What the hub says of a file (huggingface_hub's HfFileMetadata).
struct FileMetadata {
    std::string etag;          // X-Linked-Etag (LFS: the sha256), else ETag; normalized
    std::string commit;        // X-Repo-Commit
    std::string download_url;  // Location of the redirect, else the resolve URL
    int64_t size = -1;         // X-Linked-Size, else Content-Length; -1 when unknown
    bool lfs = false;          // X-Linked-Etag was given
};

// HEAD `url` (a resolve/<commit>/<file> URL). `what` names the file in errors.
FileMetadata file_metadata(const HttpClient& client, const std::string& url,
                           const std::string& what);

// Makes sure blobs/<metadata.etag> holds the file; downloads it (with a progress bar named
// `file`) when not. Throws ovllm::Error naming the URL on a failed, truncated, HTML or
// wrong-sha256 download; a wrong sha256 also removes the downloaded bytes.
void fetch_blob(const HttpClient& client, const RepoCache& cache, const FileMetadata& metadata,
                const std::string& file);

// Lowercase hex sha256 of a file.
std::string file_sha256(const std::string& path);

}  // namespace ovllm::hub
