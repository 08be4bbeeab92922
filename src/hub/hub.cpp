#include "hub/hub.hpp"

#include <algorithm>
#include <optional>
#include <regex>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "hub/blob_download.hpp"
#include "hub/cache.hpp"
#include "hub/file_selection.hpp"
#include "hub/http_client.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace ovllm::hub {
namespace fs = std::filesystem;
namespace {

// The repo as messages name it: "ORG/NAME", with the revision when it is not main.
std::string describe(const std::string& repo_id, const std::string& revision) {
    return revision == "main" ? repo_id : fmt::format("{} (revision {})", repo_id, revision);
}

ResolvedModel resolved(const RepoCache& cache, const std::string& repo_id,
                       const std::string& commit, const Selection& selection, bool downloaded) {
    const fs::path snapshot = cache.snapshot(commit);
    return {selection.gguf_file.empty() ? snapshot : snapshot / selection.gguf_file, repo_id,
            commit, downloaded};
}

// The cached snapshot of `revision` when it holds everything `request` needs; otherwise
// nullopt, with what it lacks in `missing`.
std::optional<ResolvedModel> from_cache(const RepoCache& cache, const HubRequest& request,
                                        const RepoName& name, const std::string& revision,
                                        std::vector<std::string>& missing) {
    const std::optional<std::string> commit = cache.commit_of(revision);
    if (!commit) {
        missing = {fmt::format("refs/{} (never downloaded)", revision)};
        return std::nullopt;
    }
    const fs::path snapshot = cache.snapshot(*commit);
    Selection selection;
    try {
        selection = select_files(snapshot_files(snapshot), request, name, name.repo_id);
    } catch (const Error&) {
        missing = {!request.gguf_file.empty() ? request.gguf_file
                   : !name.quant_tag.empty()
                       ? fmt::format("a .gguf file matching '{}'", name.quant_tag)
                       : std::string("the weights (*.safetensors, "
                                     "openvino_model.xml or *.gguf)")};
        return std::nullopt;
    }
    missing = missing_from_snapshot(snapshot, selection, request);
    if (!missing.empty()) return std::nullopt;
    return resolved(cache, name.repo_id, *commit, selection, false);
}

struct RevisionInfo {
    std::string commit;
    std::vector<std::string> files;
};

// GET /api/models/ORG/NAME/revision/REV: the commit and the file list.
RevisionInfo revision_info(const HttpClient& client, const std::string& endpoint,
                           const std::string& repo_id, const std::string& revision,
                           const std::string& what) {
    const std::string url =
        fmt::format("{}/api/models/{}/revision/{}", endpoint, repo_id, url_quote(revision, false));
    const HttpResponse response = client.get(url);
    client.raise_for_status(response, what);
    const nlohmann::json info = nlohmann::json::parse(response.body, nullptr, false);
    if (!info.is_object() || !info.contains("sha") || !info["sha"].is_string() ||
        !is_commit_hash(info["sha"].get<std::string>())) {
        throw_error(
            "GET {}: the answer is not the hub's revision info (no 40-hex \"sha\"; is "
            "HF_ENDPOINT a Hugging Face hub?)",
            url);
    }
    RevisionInfo result{info["sha"].get<std::string>(), {}};
    for (const nlohmann::json& sibling : info.value("siblings", nlohmann::json::array())) {
        if (sibling.contains("rfilename") && sibling["rfilename"].is_string())
            result.files.push_back(sibling["rfilename"].get<std::string>());
    }
    return result;
}

// A file name from the hub must stay inside the snapshot folder.
void check_file_name(const std::string& file, const std::string& what) {
    const fs::path path(file);
    const bool escapes = path.is_absolute() ||
                         std::any_of(path.begin(), path.end(), [](auto& p) { return p == ".."; });
    if (file.empty() || escapes)
        throw_error("{}: the hub lists an unsafe file name '{}'", what, file);
}

ResolvedModel download(const HubRequest& request, const RepoName& name, const std::string& revision,
                       const config::HubEnvironment& hub, const RepoCache& cache,
                       const std::string& what) {
    const HttpClient client(hub.endpoint, hub.token);
    const RevisionInfo info = revision_info(client, hub.endpoint, name.repo_id, revision, what);
    const Selection selection = select_files(info.files, request, name, what);
    cache.write_ref(revision, info.commit);

    // Every blob first, the snapshot links last: a failed download leaves the snapshot as
    // it was, never with a link to a missing or half file.
    std::vector<std::pair<std::string, std::string>> links;  // file, etag
    std::error_code error;
    for (const std::string& file : selection.files) {
        check_file_name(file, what);
        if (fs::exists(cache.snapshot(info.commit) / file, error)) continue;
        const std::string url = fmt::format("{}/{}/resolve/{}/{}", hub.endpoint, name.repo_id,
                                            info.commit, url_quote(file, true));
        const FileMetadata metadata = file_metadata(client, url, name.repo_id + ": " + file);
        fetch_blob(client, cache, metadata, file);
        links.emplace_back(file, metadata.etag);
    }
    for (const auto& [file, etag] : links) cache.link_snapshot_file(info.commit, file, etag);
    if (!links.empty()) {
        OVLLM_INFO("{}: downloaded {} file(s) of commit {} into {}", what, links.size(),
                   info.commit, cache.snapshot(info.commit).string());
    }
    return resolved(cache, name.repo_id, info.commit, selection, !links.empty());
}

}  // namespace

std::optional<RepoName> parse_repo_name(const std::string& name) {
    // huggingface_hub's repo id rules: [\w.-] parts, no leading '-' or '.', no "--" or "..",
    // at most 96 characters.
    static const std::regex kPattern(
        R"(^([A-Za-z0-9_][A-Za-z0-9_.\-]{0,95})/([A-Za-z0-9_][A-Za-z0-9_.\-]{0,95})(?::([A-Za-z0-9_.\-]+))?$)");
    std::smatch match;
    if (!std::regex_match(name, match, kPattern)) return std::nullopt;
    const std::string org = match[1].str();
    const std::string repo = match[2].str();
    for (const std::string& part : {org, repo}) {
        if (part.find("..") != std::string::npos || part.find("--") != std::string::npos ||
            part.ends_with(".git"))
            return std::nullopt;
    }
    return RepoName{org + "/" + repo, match[3].str()};
}

ResolvedModel resolve(const HubRequest& request, const config::HubEnvironment& hub) {
    const std::optional<RepoName> name = parse_repo_name(request.name);
    if (!name) throw_error("{}: not a Hugging Face Hub name (ORG/NAME)", request.name);
    const std::string revision = request.revision.empty() ? "main" : request.revision;
    const std::string what = describe(name->repo_id, revision);
    const RepoCache cache(hub.cache_dir, name->repo_id);

    std::vector<std::string> missing;
    if (auto cached = from_cache(cache, request, *name, revision, missing)) {
        OVLLM_INFO("{}: using the cached snapshot {}", what, cached->path.string());
        return *cached;
    }
    if (hub.offline) {
        throw_error(
            "HF_HUB_OFFLINE is set and {} is not complete in the cache {}: missing {}; unset "
            "HF_HUB_OFFLINE to download it from {}",
            what, cache.folder().string(), fmt::join(missing, ", "), hub.endpoint);
    }
    OVLLM_INFO("{}: not complete in {} (missing {}); downloading from {}", what,
               cache.folder().string(), fmt::join(missing, ", "), hub.endpoint);
    return download(request, *name, revision, hub, cache, what);
}

}  // namespace ovllm::hub
