// Reading and splitting small /proc files. See proc_text.hpp.
#include "sim/observe/proc_text.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace forklore::procfs {

// The files read here are seq_files: a read() fills the buffer as far as the content goes, so a
// short read is the end and saves the extra read() that would return 0 (a few us each).
ssize_t read_small_file(const char* path, char* buffer, std::size_t capacity) {
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    std::size_t length = 0;
    while (length + 1 < capacity) {
        std::size_t wanted = capacity - 1 - length;
        ssize_t n = ::read(fd, buffer + length, wanted);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ::close(fd);
            return -1;
        }
        length += static_cast<std::size_t>(n);
        if (static_cast<std::size_t>(n) < wanted)
            break;
    }
    ::close(fd);
    buffer[length] = '\0';
    return static_cast<ssize_t>(length);
}

std::string read_whole_file(const char* path) {
    std::string content;
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return content;
    char chunk[4096];
    for (;;) {
        ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        content.append(chunk, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return content;
}

ssize_t read_task_file(pid_t pid, pid_t tid, const char* file, char* buffer, std::size_t capacity) {
    char path[96];
    std::snprintf(path, sizeof path, "/proc/%d/task/%d/%s", pid, tid, file);
    return read_small_file(path, buffer, capacity);
}

bool parse_number(const char* text, int& out) {
    if (*text < '0' || *text > '9')
        return false;
    char* end = nullptr;
    long value = std::strtol(text, &end, 10);
    if (*end != '\0')
        return false;
    out = static_cast<int>(value);
    return true;
}

std::vector<int> numbered_entries(const char* directory) {
    std::vector<int> numbers;
    DIR* entries = ::opendir(directory);
    if (!entries)
        return numbers;
    while (dirent* entry = ::readdir(entries)) {
        int number = 0;
        if (parse_number(entry->d_name, number))
            numbers.push_back(number);
    }
    ::closedir(entries);
    return numbers;
}

std::size_t split_fields(std::string_view text, std::string_view* fields, std::size_t max_fields) {
    std::size_t count = 0, i = 0;
    while (count < max_fields) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n'))
            ++i;
        if (i >= text.size())
            break;
        std::size_t start = i;
        while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\n')
            ++i;
        fields[count++] = text.substr(start, i - start);
    }
    return count;
}

std::int64_t to_int(std::string_view field) {
    char buffer[32];
    std::size_t n = std::min(field.size(), sizeof buffer - 1);
    std::memcpy(buffer, field.data(), n);
    buffer[n] = '\0';
    return std::strtoll(buffer, nullptr, 10);
}

bool split_stat_line(std::string_view line, std::string_view& comm, std::string_view& rest) {
    std::size_t open = line.find('(');
    std::size_t close = line.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open)
        return false;
    comm = line.substr(open + 1, close - open - 1);
    rest = line.substr(close + 1);
    return true;
}

} // namespace forklore::procfs
