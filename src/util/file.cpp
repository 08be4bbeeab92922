#include "util/file.hpp"

#include <fstream>
#include <sstream>

#include "util/error.hpp"

namespace ovllm::util {

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw_error("{}: cannot open file", path.string());
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) throw_error("{}: read failed", path.string());
    return buffer.str();
}

}  // namespace ovllm::util
