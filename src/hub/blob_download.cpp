#include "hub/blob_download.hpp"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include <openssl/evp.h>

#include "util/error.hpp"
#include "util/log.hpp"
#include "util/progress_bar.hpp"

namespace ovllm::hub {
namespace fs = std::filesystem;
namespace {

// A broken connection is retried this many times in all, each resuming where it stopped
// (huggingface_hub's http_get retries 5 times too).
constexpr int kAttempts = 5;

class Sha256 {
  public:
    Sha256() : context_(EVP_MD_CTX_new()) { reset(); }
    void reset() { EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr); }
    void update(const char* data, size_t size) { EVP_DigestUpdate(context_.get(), data, size); }
    std::string hex() {
        std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
        unsigned int length = 0;
        EVP_DigestFinal_ex(context_.get(), digest.data(), &length);
        std::string text;
        for (unsigned int i = 0; i < length; ++i) text += fmt::format("{:02x}", digest[i]);
        return text;
    }

  private:
    struct Deleter {
        void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
    };
    std::unique_ptr<EVP_MD_CTX, Deleter> context_;
};

void hash_file(const fs::path& path, Sha256& hasher) {
    std::ifstream in(path, std::ios::binary);
    std::array<char, 1 << 16> buffer{};
    while (in.read(buffer.data(), buffer.size()) || in.gcount() > 0) {
        hasher.update(buffer.data(), static_cast<size_t>(in.gcount()));
    }
}

int64_t size_or_zero(const fs::path& path) {
    std::error_code error;
    const auto size = fs::file_size(path, error);
    return error ? 0 : static_cast<int64_t>(size);
}

// The .incomplete file being appended to, with the sha256 of everything in it.
struct PartialBlob {
    fs::path path;
    int64_t size = 0;
    Sha256 hasher;
    std::FILE* out = nullptr;

    explicit PartialBlob(fs::path where) : path(std::move(where)) {
        size = size_or_zero(path);
        if (size > 0) hash_file(path, hasher);
    }
    ~PartialBlob() { close(); }
    void open_for_append() {
        close();
        out = std::fopen(path.c_str(), "ab");
        if (!out) throw_error("{}: cannot write", path.string());
    }
    void restart() {  // the server sent the whole file again
        close();
        out = std::fopen(path.c_str(), "wb");
        if (!out) throw_error("{}: cannot write", path.string());
        size = 0;
        hasher.reset();
    }
    void append(const char* data, size_t bytes) {
        if (std::fwrite(data, 1, bytes, out) != bytes)
            throw_error("{}: write failed (disk full?)", path.string());
        hasher.update(data, bytes);
        size += static_cast<int64_t>(bytes);
    }
    void close() {
        if (out) std::fclose(out);
        out = nullptr;
    }
};

// One GET from `blob.size` on. Returns false when the connection broke (worth a retry).
bool fetch_once(const HttpClient& client, const FileMetadata& metadata, const std::string& file,
                PartialBlob& blob, progress::ProgressBar& bar) {
    blob.open_for_append();
    const int64_t start = blob.size;
    bool first_chunk = true;
    const ChunkCallback on_chunk = [&](long status, const char* data, size_t bytes) {
        if (first_chunk && status == 200 && blob.size > 0) blob.restart();
        first_chunk = false;
        blob.append(data, bytes);
    };
    int64_t shown = start;
    const ProgressCallback on_progress = [&](int64_t) {
        bar.update(blob.size - shown);
        shown = blob.size;
    };
    HttpResponse response;
    try {
        response = client.download(metadata.download_url, start, on_chunk, on_progress);
    } catch (const TransferError& error) {
        blob.close();
        OVLLM_WARN("{}: {}; resuming from byte {}", file, error.what(), blob.size);
        return false;
    }
    blob.close();
    if (response.status == 416 && metadata.size >= 0 && start == metadata.size) return true;
    client.raise_for_status(response, file);
    if (response.header("content-type").find("text/html") != std::string::npos) {
        throw_error("GET {}: an HTML page came instead of {} (Content-Type: {})", response.url,
                    file, response.header("content-type"));
    }
    return true;
}

void check_complete(const FileMetadata& metadata, const std::string& file, PartialBlob& blob) {
    if (metadata.size >= 0 && blob.size != metadata.size) {
        throw_error("GET {}: truncated download of {}: {} of {} bytes", metadata.download_url, file,
                    blob.size, metadata.size);
    }
    // An LFS file's ETag is its sha256 (64 hex digits); anything else cannot be checked.
    const bool sha256_etag =
        metadata.etag.size() == 64 &&
        metadata.etag.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!metadata.lfs || !sha256_etag) return;
    const std::string sha = blob.hasher.hex();
    if (sha != metadata.etag) {
        std::error_code ignored;
        fs::remove(blob.path, ignored);
        throw_error("GET {}: {} has sha256 {} but the hub says {}; the download was removed",
                    metadata.download_url, file, sha, metadata.etag);
    }
}

}  // namespace

FileMetadata file_metadata(const HttpClient& client, const std::string& url,
                           const std::string& what) {
    const HttpResponse response = client.head(url);
    client.raise_for_status(response, what);
    FileMetadata metadata;
    const std::string linked_etag = response.header("x-linked-etag");
    metadata.lfs = !linked_etag.empty();
    metadata.etag = normalize_etag(metadata.lfs ? linked_etag : response.header("etag"));
    metadata.commit = response.header("x-repo-commit");
    const std::string location = response.header("location");
    metadata.download_url = location.empty() ? response.url : location;
    const bool redirect = response.status >= 300 && response.status < 400;
    const std::string size = !response.header("x-linked-size").empty()
                                 ? response.header("x-linked-size")
                                 : (redirect ? "" : response.header("content-length"));
    if (!size.empty()) metadata.size = std::stoll(size);
    if (metadata.etag.empty() || metadata.etag.find('/') != std::string::npos ||
        metadata.etag.starts_with(".")) {
        throw_error("HEAD {}: no usable ETag for {} (is HF_ENDPOINT a Hugging Face hub?)", url,
                    what);
    }
    if (metadata.commit.empty()) {
        throw_error("HEAD {}: no X-Repo-Commit header for {} (is HF_ENDPOINT a Hugging Face hub?)",
                    url, what);
    }
    return metadata;
}

void fetch_blob(const HttpClient& client, const RepoCache& cache, const FileMetadata& metadata,
                const std::string& file) {
    const fs::path blob_path = cache.blob(metadata.etag);
    std::error_code error;
    if (fs::exists(blob_path, error)) return;
    // Two processes fetching the same model wait for each other instead of sharing a file.
    const FileLock lock(cache.lock_file(metadata.etag));
    if (fs::exists(blob_path, error)) return;
    fs::create_directories(blob_path.parent_path());

    PartialBlob blob(cache.incomplete_blob(metadata.etag));
    if (metadata.size >= 0 && blob.size > metadata.size) blob.restart();
    if (blob.size > 0) OVLLM_INFO("{}: resuming the download from byte {}", file, blob.size);
    {
        progress::ProgressBar bar(file, std::max<int64_t>(metadata.size, 0), false);
        bar.set_unit_bytes();
        bar.update(blob.size);
        bool done = metadata.size >= 0 && blob.size == metadata.size;
        for (int attempt = 1; !done; ++attempt) {
            done = fetch_once(client, metadata, file, blob, bar);
            if (!done && attempt == kAttempts) {
                throw_error(
                    "GET {}: the connection broke {} times; {} of {} bytes of {} are "
                    "kept in {} and resume on the next start",
                    metadata.download_url, kAttempts, blob.size, metadata.size, file,
                    blob.path.string());
            }
        }
    }
    check_complete(metadata, file, blob);
    fs::rename(blob.path, blob_path);
}

std::string file_sha256(const std::string& path) {
    Sha256 hasher;
    hash_file(path, hasher);
    return hasher.hex();
}

}  // namespace ovllm::hub
