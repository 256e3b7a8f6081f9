#include "gui/record_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <sstream>
#include <vector>

namespace forklore::gui {

std::shared_ptr<const RunRecord> read_record_file(const std::string& path, std::string& error) {
    error.clear();
    if (path.empty()) {
        error = "no file name given";
        return nullptr;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = fmt::format("cannot open {}: {}", path, std::strerror(errno));
        return nullptr;
    }
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad()) {
        error = fmt::format("cannot read {}", path);
        return nullptr;
    }
    try {
        nlohmann::json json = nlohmann::json::parse(content.str());
        return std::make_shared<const RunRecord>(run_record_from_json(json));
    } catch (const nlohmann::json::parse_error& problem) {
        error = fmt::format("{} is not JSON: {}", path, problem.what());
    } catch (const std::exception& problem) {
        // run_record_from_json's own errors, and nlohmann's type errors on a JSON of another shape.
        error = fmt::format("{} is not a run record: {}", path, problem.what());
    }
    return nullptr;
}

bool write_record_file(const RunRecord& record, const std::string& path, std::string& error) {
    error.clear();
    if (path.empty()) {
        error = "no file name given";
        return false;
    }
    std::string content;
    try {
        content = to_json(record).dump(2) + "\n";
    } catch (const std::exception& problem) {
        // A record with text that is not UTF-8 cannot become JSON.
        error = fmt::format("cannot write {}: {}", path, problem.what());
        return false;
    }
    // The temporary file is beside the target, so rename() stays within one file system.
    std::string pattern = path + ".XXXXXX";
    std::vector<char> temporary(pattern.begin(), pattern.end());
    temporary.push_back('\0');
    int fd = mkstemp(temporary.data());
    if (fd < 0) {
        error = fmt::format("cannot write {}: {}", path, std::strerror(errno));
        return false;
    }
    // mkstemp creates the file 0600; a saved run is for sharing, as any file the user writes.
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    const char* data = content.data();
    std::size_t left = content.size();
    int failure = 0;
    while (left > 0) {
        ssize_t written = write(fd, data, left);
        if (written < 0) {
            if (errno == EINTR) continue;
            failure = errno;
            break;
        }
        data += written;
        left -= static_cast<std::size_t>(written);
    }
    if (!failure && fsync(fd) != 0) failure = errno;
    if (close(fd) != 0 && !failure) failure = errno;
    if (!failure && std::rename(temporary.data(), path.c_str()) != 0) failure = errno;
    if (failure) {
        std::remove(temporary.data());
        error = fmt::format("cannot write {}: {}", path, std::strerror(failure));
        return false;
    }
    return true;
}

} // namespace forklore::gui
